// Per-row top-k lists merged across blocks of M. k is small (tens), so a sorted insertion into
// a fixed-size list beats a heap and keeps "ties go to the lower index" trivially true when
// candidates are offered in increasing index order.
import type { TopKResult } from "./types.ts";

export class TopKAccumulator {
  readonly values: Float32Array;
  readonly indices: Int32Array;
  private readonly counts: Int32Array;

  constructor(
    readonly rows: number,
    readonly k: number,
  ) {
    this.values = new Float32Array(rows * k).fill(-Infinity);
    this.indices = new Int32Array(rows * k).fill(-1);
    this.counts = new Int32Array(rows);
  }

  /** Offers one candidate to a row; candidates must come in increasing index order per row for stable ties. */
  offer(row: number, index: number, value: number): void {
    const k = this.k;
    const base = row * k;
    const n = this.counts[row];
    if (n === k && !(value > this.values[base + k - 1])) return;
    let pos = n < k ? n : k - 1;
    while (pos > 0 && value > this.values[base + pos - 1]) {
      this.values[base + pos] = this.values[base + pos - 1];
      this.indices[base + pos] = this.indices[base + pos - 1];
      pos--;
    }
    this.values[base + pos] = value;
    this.indices[base + pos] = index;
    if (n < k) this.counts[row] = n + 1;
  }

  /** Offers a whole score row (scores[j] belongs to M row offset + j). */
  offerRow(row: number, scores: Float32Array, offset: number): void {
    for (let j = 0; j < scores.length; j++) this.offer(row, offset + j, scores[j]);
  }

  /** Merges a block's sorted top list (length kb, indices relative to `offset`). */
  offerSorted(row: number, values: Float32Array, indices: Int32Array, from: number, kb: number, offset: number): void {
    for (let t = 0; t < kb; t++) {
      const v = values[from + t];
      // Sorted input: once one candidate fails to enter a full list, the rest cannot either.
      if (this.counts[row] === this.k && !(v > this.values[row * this.k + this.k - 1])) return;
      this.offer(row, offset + indices[from + t], v);
    }
  }

  result(): TopKResult {
    return { indices: this.indices, values: this.values };
  }
}
