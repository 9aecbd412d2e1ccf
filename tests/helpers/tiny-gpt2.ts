// A tiny GPT-2 (random weights) written the way optimum exports GPT-2 to ONNX: the same
// module scopes and node names (/transformer/wte/Gather, /transformer/Add, /transformer/h.L/ln_1/…,
// /transformer/h.L/Add_1, LayerNorm decomposed as at opset 14, Conv1D as Reshape → Gemm →
// Reshape, gelu_new as act/Mul…Mul_3), inputs input_ids / attention_mask / position_ids, output
// logits; a byte-level BPE tokenizer.json; and a float64 forward pass in plain JavaScript that
// does not touch src/ (tiny-gpt2-reference.ts), the reference the ONNX source is checked against.
// Benchmarks use writeTinyGpt2Dir to get a model directory.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { encodeModel, float, type Initializer, int, ints, type NodeSpec, OnnxType } from "../../src/kernel/onnx-proto.ts";
import { rng } from "./saelens-fixture.ts";

export interface TinyGpt2Options {
  nLayer?: number;
  nHead?: number;
  dModel?: number;
  nPositions?: number;
  seed?: number;
  /**
   * Add an Add to /transformer before the embedding sum, as newer transformers versions trace
   * (cache_position's arange), which renames the sum to /transformer/Add_1_output_0.
   */
  shiftCounters?: boolean;
}

export interface TinyGpt2Block {
  ln1W: Float32Array;
  ln1B: Float32Array;
  /** c_attn: [d, 3d] (Conv1D keeps weights input-major), bias [3d]. */
  attnW: Float32Array;
  attnB: Float32Array;
  attnProjW: Float32Array;
  attnProjB: Float32Array;
  ln2W: Float32Array;
  ln2B: Float32Array;
  fcW: Float32Array;
  fcB: Float32Array;
  projW: Float32Array;
  projB: Float32Array;
}

export interface TinyGpt2 {
  nLayer: number;
  nHead: number;
  dModel: number;
  nPositions: number;
  vocab: string[];
  merges: [string, string][];
  /** [vocab, d] */
  wte: Float32Array;
  /** [nPositions, d] */
  wpe: Float32Array;
  blocks: TinyGpt2Block[];
  lnfW: Float32Array;
  lnfB: Float32Array;
  eps: number;
}

export const TINY_BOS = "<|endoftext|>";

/** ~40 tokens: the BOS/EOS token, space, punctuation, letters and a few merged words. */
function tinyVocab(): { vocab: string[]; merges: [string, string][] } {
  const vocab = [TINY_BOS, "Ġ", ".", ",", ..."abcdefghijklmnopqrstuvwxyz"];
  const merges: [string, string][] = [
    ["Ġ", "t"], ["h", "e"], ["Ġt", "he"], ["t", "he"], ["Ġ", "c"], ["a", "t"], ["Ġc", "at"],
    ["Ġ", "s"], ["Ġs", "at"], ["o", "n"], ["Ġ", "on"], ["Ġ", "m"], ["Ġm", "at"],
  ];
  for (const [a, b] of merges) vocab.push(a + b);
  return { vocab, merges };
}

export function randomTinyGpt2(o: TinyGpt2Options = {}): TinyGpt2 {
  const nLayer = o.nLayer ?? 2;
  const nHead = o.nHead ?? 4;
  const d = o.dModel ?? 24;
  const nPositions = o.nPositions ?? 64;
  const rand = rng(o.seed ?? 11);
  // float32-exact values: the reference multiplies exactly what the ONNX file holds.
  const mat = (n: number, scale: number) => Float32Array.from({ length: n }, () => rand() * 2 * scale);
  const around1 = (n: number) => Float32Array.from({ length: n }, () => 1 + rand() * 0.4);
  const { vocab, merges } = tinyVocab();
  const blocks: TinyGpt2Block[] = [];
  for (let l = 0; l < nLayer; l++) {
    blocks.push({
      ln1W: around1(d), ln1B: mat(d, 0.1),
      attnW: mat(d * 3 * d, 0.4), attnB: mat(3 * d, 0.1),
      attnProjW: mat(d * d, 0.3), attnProjB: mat(d, 0.1),
      ln2W: around1(d), ln2B: mat(d, 0.1),
      fcW: mat(d * 4 * d, 0.3), fcB: mat(4 * d, 0.1),
      projW: mat(4 * d * d, 0.2), projB: mat(d, 0.1),
    });
  }
  return {
    nLayer, nHead, dModel: d, nPositions, vocab, merges,
    wte: mat(vocab.length * d, 0.5), wpe: mat(nPositions * d, 0.2),
    blocks, lnfW: around1(d), lnfB: mat(d, 0.1), eps: 1e-5,
  };
}

/** Builds nodes named as torch.onnx.export names them: <scope>/<Op>[_n], outputs <node>_output_<i>. */
class Scoped {
  readonly nodes: NodeSpec[] = [];
  readonly inits: Initializer[] = [];
  private counts = new Map<string, number>();

  op(scope: string, op: string, inputs: string[], attrs?: NodeSpec["attrs"], nOut = 1): string[] {
    const key = `${scope}/${op}`;
    const n = this.counts.get(key) ?? 0;
    this.counts.set(key, n + 1);
    const name = n === 0 ? key : `${key}_${n}`;
    const outputs = Array.from({ length: nOut }, (_, i) => `${name}_output_${i}`);
    this.nodes.push({ name, op, inputs, outputs, attrs });
    return outputs;
  }

  one(scope: string, op: string, inputs: string[], attrs?: NodeSpec["attrs"]): string {
    return this.op(scope, op, inputs, attrs)[0]!;
  }

  f32(name: string, dims: number[], data: Float32Array): string {
    this.inits.push({ name, type: OnnxType.FLOAT, dims, raw: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) });
    return name;
  }

  i64(name: string, values: number[], dims = [values.length]): string {
    this.inits.push({ name, type: OnnxType.INT64, dims, int64s: values });
    return name;
  }
}

function layerNorm(b: Scoped, scope: string, x: string, w: string, bias: string, eps: string, two: string): string {
  const mean = b.one(scope, "ReduceMean", [x], { axes: ints([-1]), keepdims: int(1) });
  const xc = b.one(scope, "Sub", [x, mean]);
  const sq = b.one(scope, "Pow", [xc, two]);
  const v = b.one(scope, "ReduceMean", [sq], { axes: ints([-1]), keepdims: int(1) });
  const ve = b.one(scope, "Add", [v, eps]);
  const sd = b.one(scope, "Sqrt", [ve]);
  const n = b.one(scope, "Div", [xc, sd]);
  const nw = b.one(scope, "Mul", [n, w]);
  return b.one(scope, "Add", [nw, bias]);
}

/** HF's Conv1D: x.view(-1, nx) @ W + b, viewed back to x's leading dims + [nf]. */
function conv1d(b: Scoped, scope: string, x: string, w: string, bias: string, nx: number, nf: number, c: Consts): string {
  const x2 = b.one(scope, "Reshape", [x, b.i64(`${scope}/flat`, [-1, nx])]);
  const y2 = b.one(scope, "Gemm", [x2, w, bias], { alpha: float(1), beta: float(1) });
  const lead = b.one(scope, "Slice", [b.one(scope, "Shape", [x]), c.zero, c.two1, c.zero]);
  const shape = b.one(scope, "Concat", [lead, b.i64(`${scope}/nf`, [nf])], { axis: int(0) });
  return b.one(scope, "Reshape", [y2, shape]);
}

interface Consts {
  zero: string;
  two1: string;
}

/** The ModelProto bytes (opset 17, IR 8). */
export function tinyGpt2Onnx(m: TinyGpt2, o: Pick<TinyGpt2Options, "shiftCounters"> = {}): Uint8Array {
  const b = new Scoped();
  const d = m.dModel;
  const hd = d / m.nHead;
  const c: Consts = { zero: b.i64("const_zero", [0]), two1: b.i64("const_two", [2]) };
  const eps = b.f32("const_eps", [], Float32Array.of(m.eps));
  const two = b.f32("const_pow2", [], Float32Array.of(2));
  const oneF = b.f32("const_onef", [], Float32Array.of(1));
  const big = b.f32("const_neg_big", [], Float32Array.of(-1e9));
  const T = "/transformer";
  const wte = b.f32("transformer.wte.weight", [m.vocab.length, d], m.wte);
  const wpe = b.f32("transformer.wpe.weight", [m.nPositions, d], m.wpe);
  const ids = b.one(T, "Reshape", ["input_ids", b.i64(`${T}/ids_shape`, [-1, 0])]);
  const tok = b.one(`${T}/wte`, "Gather", [wte, ids]);
  let positions = "position_ids";
  if (o.shiftCounters) positions = b.one(T, "Add", ["position_ids", b.i64(`${T}/past_len`, [0], [])]);
  const pos = b.one(`${T}/wpe`, "Gather", [wpe, positions]);
  let h = b.one(T, "Add", [tok, pos]);
  // Padding mask, (1 - mask) * big, as [batch, 1, 1, seq]; causal mask (1 - tril(ones)) * big, [seq, seq].
  const maskF = b.one(T, "Cast", ["attention_mask"], { to: int(OnnxType.FLOAT) });
  const pad = b.one(T, "Unsqueeze", [b.one(T, "Mul", [b.one(T, "Sub", [oneF, maskF]), big]), b.i64(`${T}/pad_axes`, [1, 2])]);
  const seq = b.one(T, "Gather", [b.one(T, "Shape", ["input_ids"]), b.i64(`${T}/seq_axis`, [1])], { axis: int(0) });
  const square = b.one(T, "Concat", [seq, seq], { axis: int(0) });
  const ones = b.one(T, "Expand", [oneF, square]);
  const causal = b.one(T, "Mul", [b.one(T, "Sub", [oneF, b.one(T, "Trilu", [ones], { upper: int(0) })]), big]);
  const scale = b.f32("const_scale", [], Float32Array.of(Math.sqrt(hd)));
  m.blocks.forEach((blk, l) => {
    const S = `${T}/h.${l}`;
    const p = `transformer.h.${l}`;
    const x1 = layerNorm(b, `${S}/ln_1`, h, b.f32(`${p}.ln_1.weight`, [d], blk.ln1W), b.f32(`${p}.ln_1.bias`, [d], blk.ln1B), eps, two);
    const A = `${S}/attn`;
    const qkv = conv1d(b, `${A}/c_attn`, x1, b.f32(`${p}.attn.c_attn.weight`, [d, 3 * d], blk.attnW), b.f32(`${p}.attn.c_attn.bias`, [3 * d], blk.attnB), d, 3 * d, c);
    const [q, k, v] = b.op(A, "Split", [qkv, b.i64(`${A}/split`, [d, d, d])], { axis: int(2) }, 3) as [string, string, string];
    const heads = b.i64(`${A}/heads`, [0, 0, m.nHead, hd]);
    const qh = b.one(A, "Transpose", [b.one(A, "Reshape", [q, heads])], { perm: ints([0, 2, 1, 3]) });
    const kT = b.one(A, "Transpose", [b.one(A, "Reshape", [k, heads])], { perm: ints([0, 2, 3, 1]) });
    const vh = b.one(A, "Transpose", [b.one(A, "Reshape", [v, heads])], { perm: ints([0, 2, 1, 3]) });
    const scores = b.one(A, "Div", [b.one(A, "MatMul", [qh, kT]), scale]);
    const masked = b.one(A, "Add", [b.one(A, "Add", [scores, causal]), pad]);
    const probs = b.one(A, "Softmax", [masked], { axis: int(-1) });
    const ctx = b.one(A, "Transpose", [b.one(A, "MatMul", [probs, vh])], { perm: ints([0, 2, 1, 3]) });
    const merged = b.one(A, "Reshape", [ctx, b.i64(`${A}/merge`, [0, 0, d])]);
    const attnOut = conv1d(b, `${A}/c_proj`, merged, b.f32(`${p}.attn.c_proj.weight`, [d, d], blk.attnProjW), b.f32(`${p}.attn.c_proj.bias`, [d], blk.attnProjB), d, d, c);
    const mid = b.one(S, "Add", [attnOut, h]);
    const x2 = layerNorm(b, `${S}/ln_2`, mid, b.f32(`${p}.ln_2.weight`, [d], blk.ln2W), b.f32(`${p}.ln_2.bias`, [d], blk.ln2B), eps, two);
    const M = `${S}/mlp`;
    const fc = conv1d(b, `${M}/c_fc`, x2, b.f32(`${p}.mlp.c_fc.weight`, [d, 4 * d], blk.fcW), b.f32(`${p}.mlp.c_fc.bias`, [4 * d], blk.fcB), d, 4 * d, c);
    const act = gelu(b, `${M}/act`, fc);
    const mlpOut = conv1d(b, `${M}/c_proj`, act, b.f32(`${p}.mlp.c_proj.weight`, [4 * d, d], blk.projW), b.f32(`${p}.mlp.c_proj.bias`, [d], blk.projB), 4 * d, d, c);
    h = b.one(S, "Add", [mid, mlpOut]);
  });
  const hf = layerNorm(b, `${T}/ln_f`, h, b.f32("transformer.ln_f.weight", [d], m.lnfW), b.f32("transformer.ln_f.bias", [d], m.lnfB), eps, two);
  const wteT = new Float32Array(d * m.vocab.length);
  for (let t = 0; t < m.vocab.length; t++) for (let j = 0; j < d; j++) wteT[j * m.vocab.length + t] = m.wte[t * d + j]!;
  const logits = b.one("/lm_head", "MatMul", [hf, b.f32("lm_head.weight_T", [d, m.vocab.length], wteT)]);
  b.nodes.push({ name: "/lm_head/Identity", op: "Identity", inputs: [logits], outputs: ["logits"] });
  return encodeModel({
    name: "main_graph",
    nodes: b.nodes,
    initializers: b.inits,
    inputs: [
      { name: "input_ids", type: OnnxType.INT64, dims: ["batch_size", "sequence_length"] },
      { name: "attention_mask", type: OnnxType.INT64, dims: ["batch_size", "sequence_length"] },
      { name: "position_ids", type: OnnxType.INT64, dims: ["batch_size", "sequence_length"] },
    ],
    outputs: [{ name: "logits", type: OnnxType.FLOAT, dims: ["batch_size", "sequence_length", m.vocab.length] }],
  });
}

/** gelu_new: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), as HF's NewGELUActivation traces. */
function gelu(b: Scoped, scope: string, x: string): string {
  const half = b.f32(`${scope}/half`, [], Float32Array.of(0.5));
  const three = b.f32(`${scope}/three`, [], Float32Array.of(3));
  const coef = b.f32(`${scope}/coef`, [], Float32Array.of(0.044715));
  const root = b.f32(`${scope}/root`, [], Float32Array.of(Math.sqrt(2 / Math.PI)));
  const one = b.f32(`${scope}/one`, [], Float32Array.of(1));
  const hx = b.one(scope, "Mul", [half, x]);
  const cube = b.one(scope, "Pow", [x, three]);
  const inner = b.one(scope, "Add", [x, b.one(scope, "Mul", [coef, cube])]);
  const t = b.one(scope, "Tanh", [b.one(scope, "Mul", [root, inner])]);
  return b.one(scope, "Mul", [hx, b.one(scope, "Add", [one, t])]);
}

/** tokenizer.json in the Hugging Face tokenizers format: byte-level BPE as GPT-2's. */
export function tinyTokenizerJson(m: TinyGpt2): object {
  const vocab = Object.fromEntries(m.vocab.map((t, i) => [t, i]));
  const byteLevel = { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true };
  return {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: [{ id: 0, content: TINY_BOS, single_word: false, lstrip: false, rstrip: false, normalized: true, special: true }],
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: { ...byteLevel, trim_offsets: false },
    decoder: byteLevel,
    model: {
      type: "BPE", dropout: null, unk_token: null, continuing_subword_prefix: "", end_of_word_suffix: "",
      fuse_unk: false, byte_fallback: false, vocab, merges: m.merges.map(([a, b]) => `${a} ${b}`),
    },
  };
}

export function tinyConfigJson(m: TinyGpt2): object {
  return {
    architectures: ["GPT2LMHeadModel"], model_type: "gpt2", n_layer: m.nLayer, n_head: m.nHead, n_embd: m.dModel,
    n_positions: m.nPositions, n_ctx: m.nPositions, vocab_size: m.vocab.length, layer_norm_epsilon: m.eps,
    bos_token_id: 0, eos_token_id: 0, activation_function: "gelu_new",
  };
}

export interface WriteTinyOptions extends TinyGpt2Options {
  /** "onnx/model.onnx" (transformers.js layout, default) or "model.onnx" (optimum's). */
  layout?: "onnx/model.onnx" | "model.onnx";
}

/** Writes config.json, tokenizer.json, tokenizer_config.json and the model into dir. */
export function writeTinyGpt2Dir(dir: string, o: WriteTinyOptions = {}): TinyGpt2 {
  const m = randomTinyGpt2(o);
  const file = join(dir, o.layout ?? "onnx/model.onnx");
  mkdirSync(join(file, ".."), { recursive: true });
  writeFileSync(file, tinyGpt2Onnx(m, o));
  writeFileSync(join(dir, "config.json"), JSON.stringify(tinyConfigJson(m), null, 2));
  writeFileSync(join(dir, "tokenizer.json"), JSON.stringify(tinyTokenizerJson(m)));
  writeFileSync(join(dir, "tokenizer_config.json"), JSON.stringify({ bos_token: TINY_BOS, eos_token: TINY_BOS, model_max_length: m.nPositions }));
  return m;
}
