// The SAE encoder, as SAELens runs it: optional activation normalisation, minus b_dec
// when applied to the input, pre = W_enc·x + b_enc, then the architecture's activation:
//   standard  ReLU(pre)
//   topk      the SAE's k largest pre, then ReLU
//   jumprelu  ReLU(pre) where pre > threshold, else 0
// Pure functions over float arrays; the service decides where the product runs.
import { badInput } from "../../errors.ts";

export type Activation = "standard" | "topk" | "jumprelu";

export interface EncodingRule {
  activation: Activation;
  /** How many features can fire at most, for a request of k. */
  limit(k: number): number;
  /** Compare pre with each feature's threshold (jumprelu). */
  jump: boolean;
}

export function encodingRule(sae: { id: string; architecture: string | null; k: number | null }): EncodingRule {
  if (sae.architecture === null) throw badInput(`SAE ${JSON.stringify(sae.id)} was imported without its architecture; cannot encode`);
  const arch = sae.architecture.trim().toLowerCase();
  if (arch === "standard" || arch === "relu") return { activation: "standard", limit: (k) => k, jump: false };
  if (arch === "jumprelu") return { activation: "jumprelu", limit: (k) => k, jump: true };
  if (arch === "topk") {
    const saeK = sae.k;
    if (!saeK || saeK < 1) throw badInput(`SAE ${JSON.stringify(sae.id)} is a topk SAE without k in its config; cannot encode`);
    return { activation: "topk", limit: (k) => Math.min(k, saeK), jump: false };
  }
  throw badInput(
    `encodeVector supports standard, topk and jumprelu SAEs; ${JSON.stringify(sae.id)} is ${JSON.stringify(sae.architecture)}`,
  );
}

/** SAELens normalize_activations, read from the stored cfg (top level or metadata). */
export function normalization(config: unknown): string {
  const c = (config ?? {}) as Record<string, unknown>;
  const meta = (c.metadata ?? {}) as Record<string, unknown>;
  const v = c.normalize_activations ?? meta.normalize_activations;
  return typeof v === "string" ? v : "none";
}

/**
 * The SAE's input for activation x: SAELens' run-time normalisation (constant_norm_rescale,
 * layer_norm; others such as expected_average_only_in use a dataset-wide factor that is not
 * stored, so x is taken as already scaled), then x - b_dec when applyBDecToInput.
 */
export function saeInput(x: ArrayLike<number>, sae: { id?: string; bDec: number[] | null; applyBDecToInput: boolean | null; config: unknown }): Float64Array {
  if (sae.applyBDecToInput === null && sae.bDec?.length) {
    throw badInput(`SAE ${JSON.stringify(sae.id ?? "")} was imported without saying whether b_dec is subtracted from the input; cannot encode`);
  }
  const d = x.length;
  const out = Float64Array.from(x);
  const norm = normalization(sae.config);
  if (norm === "constant_norm_rescale") {
    let ss = 0;
    for (let i = 0; i < d; i++) ss += out[i]! * out[i]!;
    const n = Math.sqrt(ss);
    if (n > 0) for (let i = 0; i < d; i++) out[i] = (out[i]! * Math.sqrt(d)) / n;
  } else if (norm === "layer_norm") {
    let mu = 0;
    for (let i = 0; i < d; i++) mu += out[i]!;
    mu /= d;
    let ss = 0;
    for (let i = 0; i < d; i++) ss += (out[i]! - mu) ** 2;
    const std = Math.sqrt(ss / Math.max(1, d - 1)); // torch.std is unbiased
    for (let i = 0; i < d; i++) out[i] = (out[i]! - mu) / (std + 1e-5);
  }
  if (sae.applyBDecToInput && sae.bDec && sae.bDec.length === d) for (let i = 0; i < d; i++) out[i] = out[i]! - sae.bDec[i]!;
  return out;
}

/** An SAE's encoder held in memory: one row per feature with an encoder. */
export interface EncoderMatrix {
  dIn: number;
  indices: Int32Array;
  weights: Float32Array;
  bEnc: Float32Array;
  threshold: Float32Array;
}

export const matrixBytes = (m: EncoderMatrix) => m.weights.byteLength + m.indices.byteLength * 3;

/** The `limit` strongest firing features for input x (already through saeInput), strongest first. */
export function encodeInMemory(m: EncoderMatrix, x: Float64Array, limit: number, jump: boolean): { index: number; activation: number }[] {
  const { dIn, weights, bEnc, threshold, indices } = m;
  const n = indices.length;
  const xf = Float32Array.from(x);
  const hits: { index: number; activation: number }[] = [];
  for (let r = 0; r < n; r++) {
    const o = r * dIn;
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0, j = 0;
    for (; j + 3 < dIn; j += 4) {
      s0 += weights[o + j]! * xf[j]!;
      s1 += weights[o + j + 1]! * xf[j + 1]!;
      s2 += weights[o + j + 2]! * xf[j + 2]!;
      s3 += weights[o + j + 3]! * xf[j + 3]!;
    }
    for (; j < dIn; j++) s0 += weights[o + j]! * xf[j]!;
    const pre = s0 + s1 + s2 + s3 + bEnc[r]!;
    if (pre <= 0) continue;
    if (jump && !(Number.isNaN(threshold[r]!) || pre > threshold[r]!)) continue;
    hits.push({ index: indices[r]!, activation: pre });
  }
  hits.sort((a, b) => b.activation - a.activation || a.index - b.index);
  return hits.length > limit ? hits.slice(0, limit) : hits;
}

/** The parts of the matrix kernel (src/kernel) a batch uses. */
export interface BatchKernel {
  topKDot(q: Float32Array, qRows: number, m: Float32Array, mRows: number, d: number, k: number): Promise<{ indices: Int32Array; values: Float32Array }>;
}

/** Rows of [x, 1] (dIn + 1 wide): with augmentEncoder, one dot product is W_enc·x + b_enc. */
export function augmentInputs(xs: Float32Array, rows: number, dIn: number): Float32Array {
  const out = new Float32Array(rows * (dIn + 1));
  for (let t = 0; t < rows; t++) {
    out.set(xs.subarray(t * dIn, (t + 1) * dIn), t * (dIn + 1));
    out[t * (dIn + 1) + dIn] = 1;
  }
  return out;
}

const augmented = new WeakMap<EncoderMatrix, Float32Array>();

/** The encoder rows with b_enc appended ([w, b_enc], dIn + 1 wide), built once per matrix. */
export function augmentEncoder(m: EncoderMatrix): Float32Array {
  let a = augmented.get(m);
  if (!a) {
    const n = m.indices.length, d = m.dIn;
    a = new Float32Array(n * (d + 1));
    for (let r = 0; r < n; r++) {
      a.set(m.weights.subarray(r * d, (r + 1) * d), r * (d + 1));
      a[r * (d + 1) + d] = m.bEnc[r]!;
    }
    augmented.set(m, a);
  }
  return a;
}

/**
 * encodeInMemory for many inputs (rows x dIn, already through saeInput), with the same rule and
 * order: the `limit` largest pre = W_enc·x + b_enc above 0 (above the threshold when `jump`),
 * ties to the lower index. With the kernel and no thresholds, one native top-k scan over
 * [W_enc | b_enc] answers them all; otherwise each row runs through encodeInMemory.
 */
export async function encodeBatchInMemory(
  m: EncoderMatrix,
  xs: Float32Array,
  rows: number,
  limit: number,
  jump: boolean,
  kernel: BatchKernel | null,
): Promise<{ index: number; activation: number }[][]> {
  const d = m.dIn;
  if (!kernel || jump || rows < 2) {
    return Array.from({ length: rows }, (_, t) => encodeInMemory(m, Float64Array.from(xs.subarray(t * d, (t + 1) * d)), limit, jump));
  }
  const n = m.indices.length;
  const top = await kernel.topKDot(augmentInputs(xs, rows, d), rows, augmentEncoder(m), n, d + 1, limit);
  const kEff = Math.min(limit, n);
  return Array.from({ length: rows }, (_, t) => {
    const hits: { index: number; activation: number }[] = [];
    for (let j = t * kEff; j < (t + 1) * kEff; j++) {
      const a = top.values[j]!;
      if (a > 0) hits.push({ index: m.indices[top.indices[j]!]!, activation: a });
    }
    return hits;
  });
}
