// The "onnx" activation source: a language model exported to ONNX in a local directory
// (onnx-model-dir.ts), run with ONNX Runtime's CPU provider, tokenized with
// @huggingface/tokenizers from the directory's tokenizer.json. The activation at an SAE's hook
// is an intermediate tensor, so the graph is rewritten in memory to list it as an extra output
// (onnx-graph.ts); GPT-2 hook names map to tensors automatically (onnx-hooks.ts), anything else
// is named with `tensor` / `hookTensors`. One session serves every hook asked for so far: a new
// hook rebuilds it with the union of outputs, so several SAEs of one model share a forward pass.
//
// The model is loaded on first use, not when the source is built (GPT-2 small is 500 MB).
import { readFile } from "node:fs/promises";
import type { Tokenizer } from "@huggingface/tokenizers";
import { createRequire } from "node:module";
import type * as OrtTypes from "onnxruntime-node";
import { badInput } from "../../errors.ts";
import { halfBitsToFloat } from "../../shared/float16.ts";
import type { ActivationSource, HookRef, TokenActivations } from "./activation-source.ts";
import { ElemType, elemTypeOf, type GraphIndex, indexGraph } from "./onnx-graph.ts";
import { addGraphOutputs } from "./onnx-graph-outputs.ts";
import { checkTensorExists, parseGpt2Hook, resolveGpt2Tensor } from "./onnx-hooks.ts";
import { type ModelDir, openModelDir, readDirJson } from "./onnx-model-dir.ts";
import { buildFeeds, type Tokenized } from "./onnx-feeds.ts";
import { checkTextLength, checkTokenCount, DEFAULT_TEXT_LIMITS, type TextLimits } from "./text-limits.ts";

type Ort = typeof OrtTypes;
type TokenizerCtor = typeof Tokenizer;

export interface OnnxSourceOptions {
  /** The model id the SAEs' cfg.json name (metadata.model_name), e.g. "gpt2-small". */
  modelId: string;
  dir: string;
  /** Where dir came from, for errors ("MONOSCOPE_MODEL_DIR_GPT2_SMALL", "--model-dir"). */
  dirLabel?: string;
  /** A model file inside dir other than the default candidates. */
  modelFile?: string;
  /** The tensor to read for every hook (the CLI's --tensor). */
  tensor?: string;
  /** Per hook name, the tensor to read (overrides the GPT-2 mapping). */
  hookTensors?: Readonly<Record<string, string>>;
  /** Prepend the BOS token as TransformerLens does (default: when config.json names a bos_token_id). */
  prependBos?: boolean;
  limits?: TextLimits;
  /** ONNX Runtime intra-op threads (default: its own choice). */
  threads?: number;
  /** Batch size x padded length per forward pass in activateMany. */
  maxBatchTokens?: number;
}

interface Loaded {
  graph: GraphIndex;
  tokenizer: Tokenizer;
}

export class OnnxActivationSource implements ActivationSource {
  readonly name: string;
  private readonly model: ModelDir;
  private loaded: Promise<Loaded> | null = null;
  private session: { tensors: Set<string>; ready: Promise<OrtTypes.InferenceSession> } | null = null;
  private readonly resolved = new Map<string, string>();
  /** Sessions replaced by a wider one; a run may still hold them, so they are released on close. */
  private readonly retired: Promise<OrtTypes.InferenceSession>[] = [];
  private firstBytes: Uint8Array | null = null;
  /** Display text per token id: decoding one id at a time costs as much as the tiny model's forward pass. */
  private readonly tokenText = new Map<number, string>();

  constructor(private readonly o: OnnxSourceOptions) {
    this.model = openModelDir(o.dir, { modelFile: o.modelFile, label: o.dirLabel });
    this.name = `onnx:${this.model.dir}`;
  }

  /**
   * Every hook of its model: a hook it cannot map fails in activate with an error that says how
   * to name the tensor, which helps more than "no source" would.
   */
  supports(hook: HookRef): boolean {
    return hook.modelName === this.o.modelId;
  }

  /** Whether the hook's tensor is named by an override or by the GPT-2 mapping (no graph read). */
  knowsHook(hookName: string): boolean {
    return !!(this.override(hookName) || parseGpt2Hook(hookName));
  }

  private override(hookName: string): string | undefined {
    return this.o.hookTensors?.[hookName] ?? this.o.tensor ?? this.model.hookTensors[hookName];
  }

  /** The graph tensor read for this hook, and how it was chosen (said in progress output). */
  async tensorFor(hook: HookRef): Promise<{ tensor: string; how: string }> {
    const { graph } = await this.load();
    const override = this.override(hook.hookName);
    if (override) {
      const problem = checkTensorExists(graph, override);
      if (problem) throw badInput(`tensor "${override}" is not in ${this.model.modelFile}; ${problem}`, { arg: "tensor" });
      return { tensor: override, how: "override" };
    }
    const nLayer = this.model.config.nLayer ?? Number.MAX_SAFE_INTEGER;
    const found = resolveGpt2Tensor(graph, hook.hookName, nLayer);
    if (!found) {
      throw badInput(
        `no tensor of ${this.model.modelFile} is known for hook "${hook.hookName}" of model ${hook.modelName}: ` +
          `GPT-2's blocks.L.hook_resid_pre/resid_mid/resid_post/attn_out/mlp_out (L < ${this.model.config.nLayer ?? "n_layer"}) map automatically; ` +
          `name any other tensor with --tensor or in ${this.model.dir}/monoscope.json ({"tensors": {"${hook.hookName}": "<tensor>"}})`,
        { arg: "tensor" },
      );
    }
    return found;
  }

  async activate(text: string, hook: HookRef): Promise<TokenActivations> {
    return (await this.activateMany([text], hook))[0]!;
  }

  async activateMany(texts: readonly string[], hook: HookRef): Promise<TokenActivations[]> {
    return (await this.activateHooks(texts, [hook])).map((perHook) => perHook[0]!);
  }

  /** Several hooks of this model in one forward pass per batch: result[text][hook]. */
  async activateHooks(texts: readonly string[], hooks: readonly HookRef[]): Promise<TokenActivations[][]> {
    const { tokenizer } = await this.load();
    const tensors: string[] = [];
    for (const hook of hooks) {
      if (hook.modelName !== this.o.modelId) throw badInput(`${this.name} runs model ${this.o.modelId}, not ${hook.modelName}`);
      tensors.push(await this.cachedTensor(hook));
    }
    const tokenized = texts.map((t) => this.tokenize(tokenizer, t));
    const session = await this.sessionFor(tensors);
    const out: TokenActivations[][] = texts.map(() => []);
    const maxBatch = this.o.maxBatchTokens ?? 4096;
    // Shortest first, so a batch pads little; right padding is exact for a causal model.
    // A text with no tokens (empty, and no BOS) has nothing to run.
    const order = tokenized
      .map((_, i) => i)
      .filter((i) => tokenized[i]!.ids.length > 0)
      .sort((a, b) => tokenized[a]!.ids.length - tokenized[b]!.ids.length);
    tokenized.forEach((tk, i) => {
      if (tk.ids.length === 0) out[i] = tensors.map((tensor, h) => ({ tokens: [], vectors: new Float32Array(0), dIn: hooks[h]!.dIn, tensor }));
    });
    for (let s = 0; s < order.length; ) {
      let e = s + 1;
      while (e < order.length && (e - s + 1) * tokenized[order[e]!]!.ids.length <= maxBatch) e++;
      const batch = order.slice(s, e);
      const result = await this.run(session, batch.map((i) => tokenized[i]!), tensors, hooks);
      batch.forEach((textIndex, b) => (out[textIndex] = result[b]!));
      s = e;
    }
    return out;
  }

  async close(): Promise<void> {
    const all = [...this.retired.splice(0), ...(this.session ? [this.session.ready] : [])];
    this.session = null;
    for (const s of all) await (await s.catch(() => null))?.release();
  }

  private async cachedTensor(hook: HookRef): Promise<string> {
    let t = this.resolved.get(hook.hookName);
    if (!t) {
      t = (await this.tensorFor(hook)).tensor;
      this.resolved.set(hook.hookName, t);
    }
    return t;
  }

  private load(): Promise<Loaded> {
    this.loaded ??= (async () => {
      const { Tokenizer } = (await import("@huggingface/tokenizers")) as { Tokenizer: TokenizerCtor };
      const json = readDirJson(this.model.dir, this.model.tokenizerJson) as object;
      const cfg = this.model.tokenizerConfigJson ? (readDirJson(this.model.dir, this.model.tokenizerConfigJson) as object) : {};
      const tokenizer = new Tokenizer(json, cfg);
      const bytes = await readFile(this.model.modelFile);
      const graph = indexGraph(bytes);
      // The first session is built from these bytes rather than a second read of the file.
      this.firstBytes = bytes;
      if (graph.externalData) {
        throw badInput(`${this.model.modelFile} keeps its weights in external data files, which this source cannot load yet; re-save it as one file (models under 2 GB fit)`);
      }
      return { graph, tokenizer };
    })();
    this.loaded.catch(() => (this.loaded = null));
    return this.loaded;
  }

  private tokenize(tokenizer: Tokenizer, text: string): Tokenized {
    const limits = this.o.limits ?? DEFAULT_TEXT_LIMITS;
    checkTextLength(text, limits);
    const ids: number[] = tokenizer.encode(text, { add_special_tokens: false }).ids.slice();
    const bos = this.model.config.bosTokenId;
    if ((this.o.prependBos ?? bos !== null) && bos !== null) ids.unshift(bos);
    checkTokenCount(ids.length, limits);
    const nPos = this.model.config.nPositions;
    if (nPos !== null && ids.length > nPos) throw badInput(`text has ${ids.length} tokens; model ${this.o.modelId} takes at most ${nPos}`, { arg: "text", max: nPos });
    const tokens = ids.map((id) => {
      const cached = this.tokenText.get(id);
      if (cached !== undefined) return cached;
      const t = tokenizer.decode([id], { skip_special_tokens: false, clean_up_tokenization_spaces: false });
      this.tokenText.set(id, t);
      return t;
    });
    return { ids, tokens };
  }

  private sessionFor(tensors: readonly string[]): Promise<OrtTypes.InferenceSession> {
    const cur = this.session;
    if (cur && tensors.every((t) => cur.tensors.has(t))) return cur.ready;
    const wanted = new Set([...(cur?.tensors ?? []), ...tensors]);
    if (cur) this.retired.push(cur.ready);
    const ready = (async () => {
      const { graph } = await this.load();
      const existing = new Set(graph.outputs.map((v) => v.name));
      const extra = [...wanted].filter((t) => !existing.has(t)).map((name) => ({ name, elemType: elemTypeOf(graph, name) || ElemType.FLOAT }));
      const original = this.firstBytes ?? (await readFile(this.model.modelFile));
      this.firstBytes = null;
      const bytes = addGraphOutputs(original, extra);
      const ort = loadOrt();
      const s = await ort.InferenceSession.create(bytes, {
        ...(this.o.threads ? { intraOpNumThreads: this.o.threads } : {}),
        interOpNumThreads: 1,
        executionMode: "sequential",
        graphOptimizationLevel: "all",
        extra: { session: { intra_op: { allow_spinning: "0" } } },
      });
      return s;
    })();
    const entry = { tensors: wanted, ready };
    this.session = entry;
    ready.catch(() => {
      if (this.session === entry) this.session = null;
    });
    return ready;
  }

  private async run(session: OrtTypes.InferenceSession, batch: Tokenized[], tensors: readonly string[], hooks: readonly HookRef[]): Promise<TokenActivations[][]> {
    const { graph } = await this.load();
    const ort = loadOrt();
    const feeds = buildFeeds(ort, graph, batch, { padId: this.model.config.eosTokenId ?? 0, config: this.model.config, file: this.model.modelFile });
    const unique = [...new Set(tensors)];
    const outputs = await session.run(feeds, unique);
    const seq = Math.max(...batch.map((t) => t.ids.length));
    return batch.map((t, b) =>
      hooks.map((hook, h) => {
        const tensor = tensors[h]!;
        const value = outputs[tensor]!;
        const width = rowWidth(value.dims, batch.length, seq, tensor);
        if (width !== hook.dIn) throw badInput(`tensor "${tensor}" has width ${width}, but the SAE for ${hook.hookName} reads d_in ${hook.dIn}`, { arg: "tensor" });
        const all = asFloat32(value, tensor);
        const vectors = all.slice(b * seq * width, (b * seq + t.ids.length) * width);
        return { tokens: t.tokens, vectors, dIn: width, tensor };
      }),
    );
  }
}

/** The width of one token's row of an output shaped [batch, seq, d] or [batch*seq, d]. */
function rowWidth(dims: readonly number[], batch: number, seq: number, tensor: string): number {
  if (dims.length === 3 && dims[0] === batch && dims[1] === seq) return dims[2]!;
  if (dims.length === 2 && dims[0] === batch * seq) return dims[1]!;
  throw badInput(`tensor "${tensor}" has shape [${dims.join(", ")}]; a hook needs one row per token ([batch, sequence, d])`, { arg: "tensor" });
}

function asFloat32(t: OrtTypes.Tensor, tensor: string): Float32Array {
  if (t.type === "float32") return t.data as Float32Array;
  if (t.type === "float64") return Float32Array.from(t.data as Float64Array);
  if (t.type === "float16") return Float32Array.from(t.data as Uint16Array, halfBitsToFloat);
  throw badInput(`tensor "${tensor}" holds ${t.type}, not floating-point activations`, { arg: "tensor" });
}

function loadOrt(): Ort {
  return createRequire(import.meta.url)("onnxruntime-node") as Ort;
}

export function createOnnxSource(o: OnnxSourceOptions): OnnxActivationSource {
  return new OnnxActivationSource(o);
}
