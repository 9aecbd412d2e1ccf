// TopK sparse autoencoder (Gao et al. 2024) trained with Adam on reconstruction MSE,
// unit-norm decoder rows, and the AuxK loss that revives dead latents.
import type { LinearAlgebra } from "./linalg.ts";
import type { Rng } from "./prng.ts";

export interface TopKSae {
  dIn: number;
  dSae: number;
  k: number;
  /** Encoder rows, d_sae x d_in (SAELens stores the transpose, W_enc [d_in, d_sae]). */
  encT: Float32Array;
  /** W_dec, d_sae x d_in, unit-norm rows. */
  dec: Float32Array;
  bEnc: Float32Array;
  bDec: Float32Array;
}

export interface TrainOptions {
  dSae: number;
  k: number;
  epochs: number;
  batchSize: number;
  lr: number;
  /** AuxK: how many dead latents model the residual, and the loss weight. */
  kAux: number;
  auxAlpha: number;
  /** A latent is dead once it has not fired for this many samples. */
  deadAfter: number;
  la: LinearAlgebra;
  rng: Rng;
  log: (msg: string) => void;
}

export interface SparseCodes {
  k: number;
  idx: Int32Array;
  val: Float32Array;
}

export function initSae(x: Float32Array, dIn: number, dSae: number, k: number, rng: Rng): TopKSae {
  const n = x.length / dIn;
  const dec = new Float32Array(dSae * dIn);
  for (let i = 0; i < dec.length; i++) dec[i] = rng.gaussian();
  normaliseRows(dec, dIn);
  const bDec = new Float32Array(dIn);
  for (let i = 0; i < n; i++) for (let d = 0; d < dIn; d++) bDec[d] += x[i * dIn + d] / n;
  return { dIn, dSae, k, encT: dec.slice(), dec, bEnc: new Float32Array(dSae), bDec };
}

/** Encodes rows of x (n x d_in) into their k active latents. */
export async function encode(sae: TopKSae, x: Float32Array, la: LinearAlgebra, chunk = 2048): Promise<SparseCodes> {
  const n = x.length / sae.dIn;
  const idx = new Int32Array(n * sae.k);
  const val = new Float32Array(n * sae.k);
  const enc = augmentedEncoder(sae);
  const xa = new Float32Array(chunk * (sae.dIn + 1));
  for (let start = 0; start < n; start += chunk) {
    const rows = Math.min(chunk, n - start);
    augmentInput(x.subarray(start * sae.dIn), rows, sae.bDec, xa);
    await topKLatents(la, xa, rows, enc, sae.dSae, sae.dIn, sae.k, idx.subarray(start * sae.k), val.subarray(start * sae.k));
  }
  return { k: sae.k, idx, val };
}

/**
 * Encoder rows with b_enc as an extra column, [W_enc^T | b_enc] (optionally only some
 * latents), so that one top-k dot-product scan against [x - b_dec | 1] is the TopK encoder.
 */
export function augmentedEncoder(sae: TopKSae, latents?: Int32Array, out?: Float32Array): Float32Array {
  const d = sae.dIn;
  const n = latents ? latents.length : sae.dSae;
  const m = out ?? new Float32Array(n * (d + 1));
  for (let r = 0; r < n; r++) {
    const j = latents ? latents[r] : r;
    m.set(sae.encT.subarray(j * d, (j + 1) * d), r * (d + 1));
    m[r * (d + 1) + d] = sae.bEnc[j];
  }
  return m;
}

/** Rows [x - b_dec | 1] for the augmented encoder. */
export function augmentInput(x: Float32Array, rows: number, bDec: Float32Array, out: Float32Array): Float32Array {
  const d = bDec.length;
  for (let r = 0; r < rows; r++) {
    for (let i = 0; i < d; i++) out[r * (d + 1) + i] = x[r * d + i] - bDec[i];
    out[r * (d + 1) + d] = 1;
  }
  return out;
}

/** Top-k positive pre-activations per row (ReLU after TopK); empty slots are idx -1, val 0. */
export async function topKLatents(
  la: LinearAlgebra, xa: Float32Array, rows: number, enc: Float32Array, nLatents: number, dIn: number, k: number,
  idx: Int32Array, val: Float32Array, latents?: Int32Array,
): Promise<void> {
  const res = await la.topKDot(xa, rows, enc, nLatents, dIn + 1, k);
  const kEff = Math.min(k, nLatents);
  for (let r = 0; r < rows; r++) {
    for (let s = 0; s < k; s++) {
      const v = s < kEff ? res.values[r * kEff + s] : 0;
      const ok = v > 0;
      idx[r * k + s] = ok ? (latents ? latents[res.indices[r * kEff + s]] : res.indices[r * kEff + s]) : -1;
      val[r * k + s] = ok ? v : 0;
    }
  }
}

/** FVU and the fraction of latents that never fire over the whole dataset. */
export function evaluate(sae: TopKSae, x: Float32Array, codes: SparseCodes): { fvu: number; dead: number } {
  const { dIn } = sae;
  const n = x.length / dIn;
  const mean = new Float64Array(dIn);
  for (let i = 0; i < n; i++) for (let d = 0; d < dIn; d++) mean[d] += x[i * dIn + d] / n;
  let err = 0;
  let total = 0;
  const fired = new Uint8Array(sae.dSae);
  const rec = new Float64Array(dIn);
  for (let i = 0; i < n; i++) {
    for (let d = 0; d < dIn; d++) rec[d] = sae.bDec[d];
    for (let s = 0; s < codes.k; s++) {
      const j = codes.idx[i * codes.k + s];
      if (j < 0) continue;
      fired[j] = 1;
      const z = codes.val[i * codes.k + s];
      for (let d = 0; d < dIn; d++) rec[d] += z * sae.dec[j * dIn + d];
    }
    for (let d = 0; d < dIn; d++) {
      const xv = x[i * dIn + d];
      err += (rec[d] - xv) ** 2;
      total += (xv - mean[d]) ** 2;
    }
  }
  let alive = 0;
  for (const f of fired) alive += f;
  return { fvu: err / total, dead: 1 - alive / sae.dSae };
}

export function normaliseRows(m: Float32Array, width: number): void {
  for (let r = 0; r < m.length / width; r++) {
    let ss = 0;
    for (let d = 0; d < width; d++) ss += m[r * width + d] ** 2;
    const inv = 1 / Math.sqrt(ss || 1);
    for (let d = 0; d < width; d++) m[r * width + d] *= inv;
  }
}
