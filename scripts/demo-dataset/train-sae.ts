// The training loop for one TopK SAE. Cost per step: one dense encoder product (the
// kernel's job) plus sparse work proportional to batch x k x d_in.
import { augmentedEncoder, augmentInput, initSae, normaliseRows, topKLatents, type TopKSae, type TrainOptions } from "./topk-sae.ts";

class Adam {
  private readonly m: Float32Array[];
  private readonly v: Float32Array[];
  private t = 0;
  constructor(private readonly params: Float32Array[]) {
    this.m = params.map((p) => new Float32Array(p.length));
    this.v = params.map((p) => new Float32Array(p.length));
  }
  step(grads: Float32Array[], lr: number, b1 = 0.9, b2 = 0.999, eps = 1e-8): void {
    this.t++;
    const c1 = 1 - b1 ** this.t;
    const c2 = 1 - b2 ** this.t;
    const a = lr / c1;
    this.params.forEach((p, i) => {
      const g = grads[i], m = this.m[i], v = this.v[i];
      for (let j = 0; j < p.length; j++) {
        const gj = g[j];
        m[j] = b1 * m[j] + (1 - b1) * gj;
        v[j] = b2 * v[j] + (1 - b2) * gj * gj;
        p[j] -= (a * m[j]) / (Math.sqrt(v[j] / c2) + eps);
      }
    });
  }
}

/** Warm up for 1% of steps, hold, then decay linearly to zero over the last 30%. */
function learningRate(base: number, step: number, total: number): number {
  const warm = Math.max(1, Math.floor(total * 0.01));
  if (step < warm) return (base * (step + 1)) / warm;
  const decayFrom = Math.floor(total * 0.7);
  if (step < decayFrom) return base;
  return (base * (total - step)) / (total - decayFrom);
}

export async function trainSae(x: Float32Array, dIn: number, o: TrainOptions): Promise<TopKSae> {
  const n = x.length / dIn;
  const S = o.dSae, k = o.k, B = o.batchSize;
  const sae = initSae(x, dIn, S, k, o.rng);
  const gEnc = new Float32Array(S * dIn), gDec = new Float32Array(S * dIn);
  const gBEnc = new Float32Array(S), gBDec = new Float32Array(dIn);
  const adam = new Adam([sae.encT, sae.dec, sae.bEnc, sae.bDec]);
  const order = Int32Array.from({ length: n }, (_, i) => i);
  const xb = new Float32Array(B * dIn), xc = new Float32Array(B * dIn), xa = new Float32Array(B * (dIn + 1));
  const enc = new Float32Array(S * (dIn + 1));
  const e = new Float32Array(B * dIn), aux = new Float32Array(B * dIn);
  const idx = new Int32Array(B * k), val = new Float32Array(B * k);
  const auxIdx = new Int32Array(B * o.kAux), auxVal = new Float32Array(B * o.kAux);
  const lastFired = new Float64Array(S);
  let totalVar = 0;
  for (let i = 0; i < x.length; i++) totalVar += x[i] * x[i];
  totalVar /= n; // rows are centred, so this is the per-sample variance
  const stepsPerEpoch = Math.ceil(n / B);
  const totalSteps = stepsPerEpoch * o.epochs;
  let step = 0, seen = 0;
  const started = Date.now();

  for (let epoch = 0; epoch < o.epochs; epoch++) {
    o.rng.shuffle(order);
    let sse = 0, count = 0, auxSum = 0, deadSum = 0;
    for (let start = 0; start < n; start += B) {
      const rows = Math.min(B, n - start);
      for (let r = 0; r < rows; r++) {
        const src = order[start + r] * dIn;
        for (let d = 0; d < dIn; d++) {
          xb[r * dIn + d] = x[src + d];
          xc[r * dIn + d] = x[src + d] - sae.bDec[d];
        }
      }
      augmentInput(xb, rows, sae.bDec, xa);
      augmentedEncoder(sae, undefined, enc);
      await topKLatents(o.la, xa, rows, enc, S, dIn, k, idx, val);

      // reconstruction error e = x_hat - x
      for (let r = 0; r < rows; r++) {
        for (let d = 0; d < dIn; d++) e[r * dIn + d] = sae.bDec[d] - xb[r * dIn + d];
        for (let s = 0; s < k; s++) {
          const j = idx[r * k + s];
          if (j < 0) continue;
          const z = val[r * k + s];
          for (let d = 0; d < dIn; d++) e[r * dIn + d] += z * sae.dec[j * dIn + d];
          lastFired[j] = seen + r;
        }
      }
      gEnc.fill(0); gDec.fill(0); gBEnc.fill(0); gBDec.fill(0);
      let batchSse = 0;
      for (let i = 0; i < rows * dIn; i++) batchSse += e[i] * e[i];
      sse += batchSse;
      count += rows;
      const scale = 2 / rows;
      for (let r = 0; r < rows; r++) {
        for (let d = 0; d < dIn; d++) gBDec[d] += scale * e[r * dIn + d];
        backpropLatents(sae, idx, val, k, r, e, scale, xc, gEnc, gDec, gBEnc, gBDec, true);
      }

      // AuxK: the top dead latents model the residual, so they get gradient and revive.
      const dead: number[] = [];
      for (let j = 0; j < S; j++) if (seen - lastFired[j] > o.deadAfter) dead.push(j);
      deadSum += dead.length;
      if (dead.length > 0) {
        const kAux = Math.min(o.kAux, dead.length);
        const deadIdx = Int32Array.from(dead);
        await topKLatents(o.la, xa, rows, augmentedEncoder(sae, deadIdx), dead.length, dIn, kAux, auxIdx, auxVal, deadIdx);
        aux.fill(0);
        for (let r = 0; r < rows; r++) {
          for (let s = 0; s < kAux; s++) {
            const j = auxIdx[r * kAux + s];
            if (j < 0) continue;
            const z = auxVal[r * kAux + s];
            for (let d = 0; d < dIn; d++) aux[r * dIn + d] += z * sae.dec[j * dIn + d];
          }
          // aux models the residual x - x_hat = -e: its error is aux + e
          for (let d = 0; d < dIn; d++) aux[r * dIn + d] += e[r * dIn + d];
        }
        const auxScale = (2 * o.auxAlpha) / Math.max(batchSse, 1e-12);
        let auxErr = 0;
        for (let i = 0; i < rows * dIn; i++) auxErr += aux[i] * aux[i];
        auxSum += (o.auxAlpha * auxErr) / Math.max(batchSse, 1e-12);
        for (let r = 0; r < rows; r++) backpropLatents(sae, auxIdx, auxVal, kAux, r, aux, auxScale, xc, gEnc, gDec, gBEnc, gBDec, false);
      }

      // Keep decoder rows on the unit sphere: drop the radial part of their gradient.
      for (let j = 0; j < S; j++) {
        let dot = 0;
        for (let d = 0; d < dIn; d++) dot += gDec[j * dIn + d] * sae.dec[j * dIn + d];
        if (dot !== 0) for (let d = 0; d < dIn; d++) gDec[j * dIn + d] -= dot * sae.dec[j * dIn + d];
      }
      adam.step([gEnc, gDec, gBEnc, gBDec], learningRate(o.lr, step, totalSteps));
      normaliseRows(sae.dec, dIn);
      step++;
      seen += rows;
    }
    const secs = ((Date.now() - started) / 1000).toFixed(0);
    o.log(
      `  d_sae=${S} epoch ${epoch + 1}/${o.epochs}: fvu ${(sse / count / totalVar).toFixed(4)}, ` +
        `dead ${((deadSum / stepsPerEpoch / S) * 100).toFixed(1)}%, aux ${(auxSum / stepsPerEpoch).toFixed(4)}, ${secs}s`,
    );
  }
  return sae;
}

/** Gradient of a loss with d loss / d x_hat = scale * err through the active latents of row r. */
function backpropLatents(
  sae: TopKSae, idx: Int32Array, val: Float32Array, k: number, r: number, err: Float32Array, scale: number,
  xc: Float32Array, gEnc: Float32Array, gDec: Float32Array, gBEnc: Float32Array, gBDec: Float32Array, throughBDec: boolean,
): void {
  const dIn = sae.dIn;
  for (let s = 0; s < k; s++) {
    const j = idx[r * k + s];
    if (j < 0) continue;
    const z = val[r * k + s];
    let dz = 0;
    for (let d = 0; d < dIn; d++) {
      const g = scale * err[r * dIn + d];
      gDec[j * dIn + d] += z * g;
      dz += g * sae.dec[j * dIn + d];
    }
    gBEnc[j] += dz;
    for (let d = 0; d < dIn; d++) {
      gEnc[j * dIn + d] += dz * xc[r * dIn + d];
      // the encoder sees x - b_dec
      if (throughBDec) gBDec[d] -= dz * sae.encT[j * dIn + d];
    }
  }
}
