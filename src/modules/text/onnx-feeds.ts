// The inputs a causal LM export expects, filled for a right-padded batch with no cache:
// input_ids, attention_mask (1 on tokens, 0 on padding), position_ids (0..n-1),
// token_type_ids (zeros), past_key_values.* (empty: past length 0) and use_cache_branch
// (false) for optimum's merged decoders. Right padding leaves every real position's
// activations exact in a causal model: no token attends to a later one.
import type * as OrtTypes from "onnxruntime-node";
import { badInput } from "../../errors.ts";
import { ElemType, type GraphIndex, type GraphValue } from "./onnx-graph.ts";
import type { ModelConfig } from "./onnx-model-dir.ts";

export interface Tokenized {
  ids: number[];
  tokens: string[];
}

type Ort = typeof OrtTypes;

export interface FeedContext {
  padId: number;
  config: ModelConfig;
  /** The model file, named in errors. */
  file: string;
}

function intTensor(ort: Ort, elemType: number, values: number[], dims: number[]): OrtTypes.Tensor {
  if (elemType === ElemType.INT32) return new ort.Tensor("int32", Int32Array.from(values), dims);
  return new ort.Tensor("int64", BigInt64Array.from(values, (v) => BigInt(v)), dims);
}

/** An empty past (sequence length 0) shaped as the input declares, symbolic sizes filled from config. */
function emptyPast(ort: Ort, v: GraphValue, batch: number, ctx: FeedContext): OrtTypes.Tensor {
  const dims = v.dims.map((d, i) => {
    if (typeof d === "number") return d;
    const name = (d ?? "").toLowerCase();
    if (i === 0 || name.includes("batch")) return batch;
    if (name.includes("past") || name.includes("sequence") || name.includes("seq")) return 0;
    throw badInput(`${ctx.file}: input ${v.name} has a dimension "${d ?? "?"}" the source cannot fill; export the model without a cache (task feature-extraction or text-generation)`);
  });
  const type = v.elemType === ElemType.FLOAT16 ? "float16" : "float32";
  return new ort.Tensor(type, type === "float16" ? new Uint16Array(0) : new Float32Array(0), dims);
}

export function buildFeeds(ort: Ort, g: GraphIndex, batch: readonly Tokenized[], ctx: FeedContext): Record<string, OrtTypes.Tensor> {
  const seq = Math.max(...batch.map((t) => t.ids.length));
  const dims = [batch.length, seq];
  const grid = (cell: (t: Tokenized, p: number) => number) => batch.flatMap((t) => Array.from({ length: seq }, (_, p) => cell(t, p)));
  const feeds: Record<string, OrtTypes.Tensor> = {};
  // Inputs that are also initializers (old exporters list weights as inputs) need no feed.
  for (const v of g.inputs.filter((i) => !g.initializers.has(i.name))) {
    const name = v.name;
    if (name === "input_ids") feeds[name] = intTensor(ort, v.elemType, grid((t, p) => t.ids[p] ?? ctx.padId), dims);
    else if (name === "attention_mask") feeds[name] = intTensor(ort, v.elemType, grid((t, p) => (p < t.ids.length ? 1 : 0)), dims);
    else if (name === "position_ids") feeds[name] = intTensor(ort, v.elemType, grid((t, p) => Math.min(p, t.ids.length - 1)), dims);
    else if (name === "token_type_ids") feeds[name] = intTensor(ort, v.elemType, grid(() => 0), dims);
    else if (name.startsWith("past_key_values") || name.startsWith("past.")) feeds[name] = emptyPast(ort, v, batch.length, ctx);
    else if (name === "use_cache_branch") feeds[name] = new ort.Tensor("bool", Uint8Array.of(0), [1]);
    else throw badInput(`${ctx.file}: graph input "${name}" is not one the source knows how to fill (input_ids, attention_mask, position_ids, token_type_ids, past_key_values.*, use_cache_branch)`);
  }
  if (!feeds.input_ids) throw badInput(`${ctx.file}: the graph has no input_ids input; is this a language model?`);
  return feeds;
}
