// Per-row top-k selection over pre-activations: the non-BLAS half of a TopK SAE's encoder.

/**
 * For each of `rows` rows of `pre` (row length `width`), writes the k largest positive
 * entries (descending) into idx/val (rows x k); unused slots get idx -1, val 0.
 * `candidates`, when given, restricts the search to those columns; `floor` -Infinity keeps
 * negative values too.
 */
export function topKRows(
  pre: Float32Array,
  rows: number,
  width: number,
  k: number,
  idx: Int32Array,
  val: Float32Array,
  candidates?: Int32Array,
  floor0 = 0,
): void {
  for (let r = 0; r < rows; r++) {
    const base = r * width;
    const out = r * k;
    for (let s = 0; s < k; s++) {
      idx[out + s] = -1;
      val[out + s] = floor0;
    }
    let floor = floor0; // 0: ReLU, only positive values qualify
    const n = candidates ? candidates.length : width;
    for (let c = 0; c < n; c++) {
      const j = candidates ? candidates[c] : c;
      const v = pre[base + j];
      if (v <= floor) continue;
      // insertion into the descending list; the last slot drops out
      let s = k - 1;
      while (s > 0 && val[out + s - 1] < v) {
        val[out + s] = val[out + s - 1];
        idx[out + s] = idx[out + s - 1];
        s--;
      }
      val[out + s] = v;
      idx[out + s] = j;
      if (idx[out + k - 1] >= 0) floor = val[out + k - 1];
    }
  }
}
