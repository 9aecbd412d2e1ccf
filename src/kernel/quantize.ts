// Symmetric per-row int8 quantisation for approximate scans (stored as uint8 with zero point
// 128, the layout MLAS multiplies fastest). For unit rows of an SAE decoder the per-dot error
// is ~1e-3 of the cosine scale, so ranking by quantised scores and re-ranking the top few dozen
// exactly recovers the exact top-k (measured by the recall tests and benchmarks).

export interface QuantizedRows {
  /** rows × d, value = (code - 128) · rowScale[row]. */
  codes: Uint8Array;
  rowScale: Float32Array;
  /** Per row ‖x − x̂‖₂ (rounded up): with ‖q‖ it bounds the error of the row's score. */
  rowErr: Float32Array;
  rows: number;
  d: number;
}

export function quantizeRows(m: Float32Array, rows: number, d: number): QuantizedRows {
  const codes = new Uint8Array(rows * d);
  const rowScale = new Float32Array(rows);
  const rowErr = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    const o = r * d;
    let max = 0;
    for (let j = 0; j < d; j++) {
      const a = Math.abs(m[o + j]);
      if (a > max) max = a;
    }
    const scale = max / 127;
    rowScale[r] = scale;
    const inv = scale > 0 ? 1 / scale : 0;
    let e2 = 0;
    for (let j = 0; j < d; j++) {
      const c = Math.round(m[o + j] * inv);
      codes[o + j] = c + 128;
      e2 += (m[o + j] - c * rowScale[r]) ** 2; // the float32 scale the scans use
    }
    rowErr[r] = Math.sqrt(e2) * (1 + 1e-6) + 1e-7;
  }
  return { codes, rowScale, rowErr, rows, d };
}

/** Queries as int8, transposed to d × qRows, with each query's scale. */
export function quantizeQueriesTransposed(q: Float32Array, qRows: number, d: number): { qt: Int8Array; scale: Float32Array } {
  const qt = new Int8Array(d * qRows);
  const scale = new Float32Array(qRows);
  for (let c = 0; c < qRows; c++) {
    const o = c * d;
    let max = 0;
    for (let j = 0; j < d; j++) max = Math.max(max, Math.abs(q[o + j]));
    const s = max / 127;
    scale[c] = s;
    const inv = s > 0 ? 1 / s : 0;
    for (let j = 0; j < d; j++) qt[j * qRows + c] = Math.round(q[o + j] * inv);
  }
  return { qt, scale };
}
