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
/** topk SAEs from this many features take the kernel's top-k scan instead of GEMM + selection. */
const TOPK_SCAN_FROM = 4096;

export class BatchEncoder {
  readonly dIn: number;
  readonly features: number;
  /** topk: the SAE's k; otherwise every firing feature is kept. */
  private readonly keep: number;
  /** Seconds spent in the kernel's product alone (the benchmark reports it beside the whole build). */
  gemmSeconds = 0;
  /** topk: [W_enc | b_enc] rows, so one native top-k scan over [x, 1] gives the k largest pre-activations. */
  private readonly augmented: Float32Array | null;

  constructor(
    private readonly enc: LoadedEncoder,
    private readonly kernel: Kernel,
    opts: { topkScanFrom?: number } = {},
  ) {
    this.dIn = enc.matrix.dIn;
    this.features = enc.matrix.indices.length;
    this.keep = enc.rule.activation === "topk" ? enc.rule.limit(Number.MAX_SAFE_INTEGER) : Number.MAX_SAFE_INTEGER;
    // Measured on the 2-core machine (3,000 x 100 rows): at 512 features the GEMM plus a selection in
    // JavaScript takes about half the scan's time; at 8,192 the scan takes about half the GEMM's.
    const scan = enc.rule.activation === "topk" && !enc.rule.jump && this.features >= (opts.topkScanFrom ?? TOPK_SCAN_FROM);
    this.augmented = scan ? augment(enc.matrix.weights, enc.matrix.bEnc, this.features, this.dIn) : null;
  }

  /** x is rows x dIn (row-major). A row of zeros is "no activation" (ActivationSource): nothing fires on it. */
  async encode(x: Float32Array, rows: number): Promise<SparseCodes> {
    const { dIn } = this;
    const live = new Int32Array(rows);
    let nLive = 0;
    for (let r = 0; r < rows; r++) {
      for (let j = r * dIn, e = j + dIn; j < e; j++) {
        if (x[j] !== 0) {
          live[nLive++] = r;
          break;
        }
      }
    }
    const out = new Codes(rows);
    const perCall = Math.max(1, Math.floor(MAX_PRE_FLOATS / Math.max(1, this.features)));
    let next = 0; // rows before live[from] that are dead get empty ranges
    for (let from = 0; from < nLive; from += perCall) {
      const count = Math.min(perCall, nLive - from);
      const width = this.augmented ? dIn + 1 : dIn;
      const input = new Float32Array(count * width);
      for (let i = 0; i < count; i++) {
        const r = live[from + i]!;
        input.set(this.enc.input(x.subarray(r * dIn, (r + 1) * dIn)), i * width);
        if (this.augmented) input[i * width + dIn] = 1;
      }
      if (this.augmented) {
        next = await this.topK(input, count, live, from, next, out);
        continue;
      }
      const t0 = performance.now();
      const pre = await this.kernel.gemm(input, this.enc.matrix.weights, count, this.features, dIn, { transB: true });
      this.gemmSeconds += (performance.now() - t0) / 1000;
      for (let i = 0; i < count; i++) {
        const r = live[from + i]!;
        while (next < r) out.rowStart[++next] = out.n;
        this.activate(pre, i, out);
        out.rowStart[++next] = out.n;
      }
    }
    while (next < rows) out.rowStart[++next] = out.n;
    return { rows, rowStart: out.rowStart, feature: out.feature.subarray(0, out.n), value: out.value.subarray(0, out.n) };
  }

  /** topk rows by the kernel's top-k scan (ties to the lower row, as encodeInMemory); returns the next row to fill. */
  private async topK(input: Float32Array, count: number, live: Int32Array, from: number, next: number, out: Codes): Promise<number> {
    const t0 = performance.now();
    const top = await this.kernel.topKDot(input, count, this.augmented!, this.features, this.dIn + 1, this.keep);
    this.gemmSeconds += (performance.now() - t0) / 1000;
    const kEff = top.indices.length / Math.max(1, count);
    const { indices } = this.enc.matrix;
    for (let i = 0; i < count; i++) {
      const r = live[from + i]!;
      while (next < r) out.rowStart[++next] = out.n;
      out.reserve(out.n + kEff);
      for (let e = i * kEff; e < (i + 1) * kEff; e++) {
        const a = top.values[e]!;
        if (!(a > 0)) continue;
        out.feature[out.n] = indices[top.indices[e]!]!;
        out.value[out.n++] = a;
      }
      out.rowStart[++next] = out.n;
    }
    return next;
  }

  /** Row i of pre (+ b_enc) through the SAE's activation, as encodeInMemory applies it; appended strongest first. */
  private activate(pre: Float32Array, i: number, out: Codes): void {
    const { bEnc, threshold, indices } = this.enc.matrix;
    const jump = this.enc.rule.jump;
    const n = this.features;
    const base = i * n;
    const keep = this.keep;
    const at = out.n;
    let len = 0;
    for (let r = 0; r < n; r++) {
      const p = pre[base + r]! + bEnc[r]!;
      if (p <= 0) continue;
      if (jump && !(Number.isNaN(threshold[r]!) || p > threshold[r]!)) continue;
      if (len === keep && !(p > out.value[at + len - 1]!)) continue; // ties keep the lower index, as encodeInMemory
      if (len < keep) {
        out.reserve(at + len + 1);
        len++;
      }
      // insertion from the end into the descending run [at, at + len)
      let s = at + len - 1;
      while (s > at && out.value[s - 1]! < p) {
        out.value[s] = out.value[s - 1]!;
        out.feature[s] = out.feature[s - 1]!;
        s--;
      }
      out.value[s] = p;
      out.feature[s] = indices[r]!;
    }
    out.n = at + len;
  }
}

function augment(w: Float32Array, b: Float32Array, rows: number, d: number): Float32Array {
  const a = new Float32Array(rows * (d + 1));
  for (let r = 0; r < rows; r++) {
    a.set(w.subarray(r * d, (r + 1) * d), r * (d + 1));
    a[r * (d + 1) + d] = b[r]!;
  }
  return a;
}

/** Growable CSR output. */
class Codes {
  readonly rowStart: Int32Array;
  feature = new Int32Array(1 << 12);
  value = new Float32Array(1 << 12);
  n = 0;
  constructor(rows: number) {
    this.rowStart = new Int32Array(rows + 1);
  }
  reserve(size: number): void {
    if (size <= this.feature.length) return;
    const cap = Math.max(size, this.feature.length * 2);
    const f = new Int32Array(cap);
    f.set(this.feature);
    const v = new Float32Array(cap);
    v.set(this.value);
    this.feature = f;
    this.value = v;
  }
}
