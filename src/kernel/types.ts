export interface GemmOptions {
  transA?: boolean;
  transB?: boolean;
}

export interface TopKResult {
  /** qRows × kEff row indices into M, best first (kEff = min(k, mRows)). */
  indices: Int32Array;
  /** qRows × kEff dot products matching `indices`. */
  values: Float32Array;
}

import type { QuantizedRows } from "./quantize.ts";

export interface Kernel {
  /** Which implementation runs: the native ONNX Runtime (MLAS) or the JavaScript fallback. */
  readonly backend: "onnxruntime" | "js";
  /** C = op(A)·op(B), row-major float32; A is m×k after op, B is k×n after op. */
  gemm(a: Float32Array, b: Float32Array, m: number, n: number, k: number, opts?: GemmOptions): Promise<Float32Array>;
  /**
   * For each of the q rows of Q (q×d), the k rows of M (n×d) with the largest dot product, best first.
   * Blocked over M. Results have min(k, mRows) entries per query row; ties go to the lower row index.
   */
  topKDot(q: Float32Array, qRows: number, m: Float32Array, mRows: number, d: number, k: number): Promise<TopKResult>;
  /**
   * Like topKDot over int8-quantised rows (quantizeRows): approximate dot products, about 4x less
   * memory traffic than float32. Callers re-rank the returned candidates exactly.
   */
  topKDotInt8(q: Float32Array, qRows: number, m: QuantizedRows, k: number): Promise<TopKResult>;
  close(): Promise<void>;
}
