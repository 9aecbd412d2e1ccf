// Plain JavaScript float32 kernel: the reference the tests compare against, and the fallback
// when the native runtime cannot load. About 100x slower than the native kernel: fine for
// tiny SAEs and tests, never for benchmarks.
import type { GemmOptions, Kernel, TopKResult } from "./types.ts";
import { TopKAccumulator } from "./topk.ts";
import { type QuantizedRows, quantizeQueriesTransposed } from "./quantize.ts";

/** C = op(A)·op(B) with op = transpose when asked; all row-major. */
export function gemmReference(
  a: Float32Array,
  b: Float32Array,
  m: number,
  n: number,
  k: number,
  opts: GemmOptions = {},
): Float32Array {
  const c = new Float32Array(m * n);
  const aAt = opts.transA ? (i: number, p: number) => a[p * m + i] : (i: number, p: number) => a[i * k + p];
  const bAt = opts.transB ? (p: number, j: number) => b[j * k + p] : (p: number, j: number) => b[p * n + j];
  if (!opts.transA && !opts.transB) {
    // The common case gets a cache-friendly i-p-j loop.
    for (let i = 0; i < m; i++) {
      const row = i * n;
      for (let p = 0; p < k; p++) {
        const av = a[i * k + p];
        if (av === 0) continue;
        const bRow = p * n;
        for (let j = 0; j < n; j++) c[row + j] += av * b[bRow + j];
      }
    }
    return c;
  }
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += aAt(i, p) * bAt(p, j);
      c[i * n + j] = s;
    }
  }
  return c;
}

/** Exact top-k by dot product, best first, ties broken by the lower row index. */
export function topKDotReference(
  q: Float32Array,
  qRows: number,
  m: Float32Array,
  mRows: number,
  d: number,
  k: number,
): TopKResult {
  const kEff = Math.min(k, mRows);
  const acc = new TopKAccumulator(qRows, kEff);
  const scores = new Float32Array(mRows);
  for (let r = 0; r < qRows; r++) {
    const qo = r * d;
    for (let j = 0; j < mRows; j++) {
      const mo = j * d;
      let s = 0;
      for (let p = 0; p < d; p++) s += q[qo + p] * m[mo + p];
      scores[j] = s;
    }
    acc.offerRow(r, scores, 0);
  }
  return acc.result();
}

/** Approximate top-k over quantised rows, with the same arithmetic as the native graph. */
export function topKDotInt8Reference(q: Float32Array, qRows: number, m: QuantizedRows, k: number): TopKResult {
  const { rows, d, codes, rowScale } = m;
  const kEff = Math.min(k, rows);
  const acc = new TopKAccumulator(qRows, kEff);
  const { qt, scale } = quantizeQueriesTransposed(q, qRows, d);
  const scores = new Float32Array(rows);
  for (let c = 0; c < qRows; c++) {
    for (let r = 0; r < rows; r++) {
      let s = 0;
      const o = r * d;
      for (let p = 0; p < d; p++) s += (codes[o + p] - 128) * qt[p * qRows + c];
      scores[r] = s * rowScale[r] * scale[c];
    }
    acc.offerRow(c, scores, 0);
  }
  return acc.result();
}

export function createJsKernel(): Kernel {
  return {
    backend: "js",
    async gemm(a, b, m, n, k, opts) {
      return gemmReference(a, b, m, n, k, opts);
    },
    async topKDot(q, qRows, m, mRows, d, k) {
      return topKDotReference(q, qRows, m, mRows, d, k);
    },
    async topKDotInt8(q, qRows, m, k) {
      return topKDotInt8Reference(q, qRows, m, k);
    },
    async close() {},
  };
}
