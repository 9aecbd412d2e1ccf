// Many activation vectors through an SAE's stored encoder at once: the same math as
// encodeVector (encode module: the SAE's input normalisation and b_dec, pre = W_enc·x + b_enc,
// then the architecture's activation), with the product W_enc·X as one float32 GEMM on the
// matrix kernel (src/kernel) instead of one dot product loop per vector.
import type { Kernel } from "../../kernel/index.ts";
import type { EncodeService } from "../../modules/encode/encode.service.ts";

type LoadedEncoder = Awaited<ReturnType<EncodeService["loadEncoder"]>>;

/** Per row, the features that fire: row r's entries are [rowStart[r], rowStart[r + 1]). */
export interface SparseCodes {
  rows: number;
  rowStart: Int32Array;
  feature: Int32Array;
  value: Float32Array;
}

/** Output floats per GEMM call (rows x features): bounds the pre-activation buffer to 64 MiB. */
const MAX_PRE_FLOATS = 16 << 20;

export class BatchEncoder {
  readonly dIn: number;
  readonly features: number;
  /** topk: the SAE's k; otherwise every firing feature is kept. */
  private readonly keep: number;
  /** Seconds spent in the GEMM alone (the benchmark reports it beside the whole build). */
  gemmSeconds = 0;

  constructor(
    private readonly enc: LoadedEncoder,
    private readonly kernel: Kernel,
  ) {
    this.dIn = enc.matrix.dIn;
    this.features = enc.matrix.indices.length;
    this.keep = enc.rule.activation === "topk" ? enc.rule.limit(Number.MAX_SAFE_INTEGER) : Number.MAX_SAFE_INTEGER;
  }

  /** x is rows x dIn (row-major). A row of zeros is "no activation" (ActivationSource): nothing fires on it. */
  async encode(x: Float32Array, rows: number): Promise<SparseCodes> {
    const { dIn } = this;
    const live: number[] = [];
    for (let r = 0; r < rows; r++) {
      const o = r * dIn;
      for (let j = 0; j < dIn; j++) {
        if (x[o + j] !== 0) {
          live.push(r);
          break;
        }
      }
    }
    const rowStart = new Int32Array(rows + 1);
    const feats: number[] = [];
    const vals: number[] = [];
    const perCall = Math.max(1, Math.floor(MAX_PRE_FLOATS / Math.max(1, this.features)));
    const hits = new Map<number, { f: Int32Array; v: Float32Array }>();
    for (let from = 0; from < live.length; from += perCall) {
      const batch = live.slice(from, from + perCall);
      const input = new Float32Array(batch.length * dIn);
      batch.forEach((r, i) => input.set(this.enc.input(x.subarray(r * dIn, (r + 1) * dIn)), i * dIn));
      const t0 = performance.now();
      const pre = await this.kernel.gemm(input, this.enc.matrix.weights, batch.length, this.features, dIn, { transB: true });
      this.gemmSeconds += (performance.now() - t0) / 1000;
      batch.forEach((r, i) => hits.set(r, this.activate(pre, i)));
    }
    for (let r = 0; r < rows; r++) {
      const h = hits.get(r);
      if (h) for (let s = 0; s < h.f.length; s++) {
        feats.push(h.f[s]!);
        vals.push(h.v[s]!);
      }
      rowStart[r + 1] = feats.length;
    }
    return { rows, rowStart, feature: Int32Array.from(feats), value: Float32Array.from(vals) };
  }

  /** Row i of pre (+ b_enc) through the SAE's activation, as encodeInMemory applies it; strongest first. */
  private activate(pre: Float32Array, i: number): { f: Int32Array; v: Float32Array } {
    const { bEnc, threshold, indices } = this.enc.matrix;
    const jump = this.enc.rule.jump;
    const n = this.features;
    const base = i * n;
    const out: { index: number; activation: number }[] = [];
    let floor = 0;
    for (let r = 0; r < n; r++) {
      const p = pre[base + r]! + bEnc[r]!;
      if (p <= 0 || p < floor) continue;
      if (jump && !(Number.isNaN(threshold[r]!) || p > threshold[r]!)) continue;
      out.push({ index: indices[r]!, activation: p });
      if (out.length > 4 * this.keep + 64) {
        // topk: only the k largest survive; trimming now keeps the list short on wide SAEs.
        out.sort(byStrength);
        out.length = this.keep;
        floor = out[this.keep - 1]!.activation;
      }
    }
    out.sort(byStrength);
    if (out.length > this.keep) out.length = this.keep;
    return { f: Int32Array.from(out, (h) => h.index), v: Float32Array.from(out, (h) => h.activation) };
  }
}

const byStrength = (a: { index: number; activation: number }, b: { index: number; activation: number }) =>
  b.activation - a.activation || a.index - b.index;
