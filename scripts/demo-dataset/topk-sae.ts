// TopK sparse autoencoder (Gao et al. 2024) trained with Adam on reconstruction MSE,
// unit-norm decoder rows, and the AuxK loss that revives dead latents.
import type { Gemm } from "./linalg.ts";
import type { Rng } from "./prng.ts";
import { topKRows } from "./topk-select.ts";

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
  gemm: Gemm;
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
export async function encode(sae: TopKSae, x: Float32Array, gemm: Gemm, chunk = 2048): Promise<SparseCodes> {
  const n = x.length / sae.dIn;
  const idx = new Int32Array(n * sae.k);
  const val = new Float32Array(n * sae.k);
  for (let start = 0; start < n; start += chunk) {
    const rows = Math.min(chunk, n - start);
    const pre = await preActivations(sae, x.subarray(start * sae.dIn, (start + rows) * sae.dIn), rows, gemm);
    topKRows(pre, rows, sae.dSae, sae.k, idx.subarray(start * sae.k), val.subarray(start * sae.k));
  }
  return { k: sae.k, idx, val };
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

async function preActivations(sae: TopKSae, x: Float32Array, rows: number, gemm: Gemm): Promise<Float32Array> {
  const { dIn, dSae } = sae;
  const xc = new Float32Array(rows * dIn);
  for (let i = 0; i < rows; i++) for (let d = 0; d < dIn; d++) xc[i * dIn + d] = x[i * dIn + d] - sae.bDec[d];
  const pre = await gemm(xc, sae.encT, rows, dSae, dIn, { transB: true });
  for (let i = 0; i < rows; i++) for (let j = 0; j < dSae; j++) pre[i * dSae + j] += sae.bEnc[j];
  return pre;
}

export function normaliseRows(m: Float32Array, width: number): void {
  for (let r = 0; r < m.length / width; r++) {
    let ss = 0;
    for (let d = 0; d < width; d++) ss += m[r * width + d] ** 2;
    const inv = 1 / Math.sqrt(ss || 1);
    for (let d = 0; d < width; d++) m[r * width + d] *= inv;
  }
}
