// The one matrix product training needs, behind a tiny interface: the project's fast
// float32 kernel (src/kernel) when present, a plain JavaScript loop otherwise.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { topKRows } from "./topk-select.ts";

export interface GemmOptions {
  transA?: boolean;
  transB?: boolean;
}

/** C (m x n) = op(A) (m x k) · op(B) (k x n), all row-major float32. */
export type Gemm = (a: Float32Array, b: Float32Array, m: number, n: number, k: number, opts?: GemmOptions) => Promise<Float32Array>;

/** For each row of Q (qRows x d), the k rows of M (mRows x d) with the largest dot products, best first. */
export type TopKDot = (q: Float32Array, qRows: number, m: Float32Array, mRows: number, d: number, k: number) => Promise<{ indices: Int32Array; values: Float32Array }>;

export interface LinearAlgebra {
  name: string;
  gemm: Gemm;
  topKDot: TopKDot;
  close(): Promise<void>;
}

export const jsTopKDot: TopKDot = async (q, qRows, m, mRows, d, k) => {
  const scores = await jsGemm(q, m, qRows, mRows, d, { transB: true });
  const kEff = Math.min(k, mRows);
  const indices = new Int32Array(qRows * kEff);
  const values = new Float32Array(qRows * kEff);
  topKRows(scores, qRows, mRows, kEff, indices, values, undefined, -Infinity);
  return { indices, values };
};

export const jsGemm: Gemm = async (a, b, m, n, k, opts = {}) => {
  const c = new Float32Array(m * n);
  const at = (i: number, p: number) => (opts.transA ? a[p * m + i] : a[i * k + p]);
  if (!opts.transB) {
    // saxpy form: the inner loop runs over contiguous rows of B and C.
    for (let i = 0; i < m; i++) {
      const ci = i * n;
      for (let p = 0; p < k; p++) {
        const s = at(i, p);
        if (s === 0) continue;
        const bp = p * n;
        for (let j = 0; j < n; j++) c[ci + j] += s * b[bp + j];
      }
    }
    return c;
  }
  const row = new Float32Array(k);
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < k; p++) row[p] = at(i, p);
    for (let j = 0; j < n; j++) {
      const bj = j * k;
      let s = 0;
      for (let p = 0; p < k; p++) s += row[p] * b[bj + p];
      c[i * n + j] = s;
    }
  }
  return c;
};

interface KernelModule {
  createKernel(): Promise<{ backend: string; gemm: Gemm; topKDot: TopKDot; close(): Promise<void> }>;
}

/** Uses src/kernel when it exists (and MONOSCOPE_DEMO_JS_GEMM is unset), else JavaScript. */
export async function loadLinearAlgebra(log: (msg: string) => void): Promise<LinearAlgebra> {
  const kernelPath = fileURLToPath(new URL("../../src/kernel/index.ts", import.meta.url));
  if (existsSync(kernelPath) && !process.env.MONOSCOPE_DEMO_JS_GEMM) {
    try {
      const mod = (await import(kernelPath)) as KernelModule;
      const kernel = await mod.createKernel();
      const gemm: Gemm = (a, b, m, n, k, opts) => kernel.gemm(a, b, m, n, k, opts);
      const topKDot: TopKDot = (q, qRows, m, mRows, d, k) => kernel.topKDot(q, qRows, m, mRows, d, k);
      await checkAgainstJs(gemm, topKDot);
      log(`linear algebra: src/kernel (${kernel.backend})`);
      return { name: `src/kernel (${kernel.backend})`, gemm, topKDot, close: () => kernel.close() };
    } catch (e) {
      log(`linear algebra: src/kernel unusable (${(e as Error).message}); using JavaScript loops`);
    }
  } else {
    log("linear algebra: JavaScript loops");
  }
  return { name: "javascript", gemm: jsGemm, topKDot: jsTopKDot, close: async () => {} };
}

/** A wrong kernel would silently train garbage, so compare once on a small case. */
async function checkAgainstJs(gemm: Gemm, topKDot: TopKDot): Promise<void> {
  const m = 7, n = 5, k = 3;
  const a = Float32Array.from({ length: m * k }, (_, i) => Math.sin(i + 1));
  const b = Float32Array.from({ length: k * n }, (_, i) => Math.cos(i + 2));
  for (const opts of [{}, { transA: true }, { transB: true }, { transA: true, transB: true }]) {
    const want = await jsGemm(a, b, m, n, k, opts);
    const got = await gemm(a, b, m, n, k, opts);
    for (let i = 0; i < want.length; i++) {
      if (Math.abs(want[i] - got[i]) > 1e-4) throw new Error(`kernel gemm mismatch for ${JSON.stringify(opts)}`);
    }
  }
  const want = await jsTopKDot(a, m, b, n, k, 2);
  const got = await topKDot(a, m, b, n, k, 2);
  for (let i = 0; i < want.values.length; i++) {
    if (Math.abs(want.values[i] - got.values[i]) > 1e-4) throw new Error("kernel topKDot mismatch");
  }
}
