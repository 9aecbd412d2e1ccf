// The second pass of the IVF neighbour-list build: a neighbour of a neighbour is likely a
// neighbour (SAE features come in neighbourhoods whose members all have cosines well above the
// noise floor with one another, but each member's own random part scatters them over IVF
// clusters). Each feature's candidates are its list, the features whose lists hold it (the
// relation is symmetric: a pair either side found counts), and the lists of all of those; cosines
// are exact float32 dot products, and the current list is among the candidates, so a pass only
// ever improves a list.
import type { DecoderMatrix } from "./decoder-matrix.ts";

/**
 * lists: every row's current neighbour rows (rows × k, -1 for none). Returns the refined
 * top-k of each row in queryRows (rows and cosines, best first, ties to the lower row).
 */
export function joinNeighbours(m: DecoderMatrix, lists: Int32Array, k: number, queryRows: Int32Array, reverse = reverseLists(lists, m.rows, k)): { rows: Int32Array; cosines: Float32Array; candidates: number } {
  const { d, data } = m;
  const { offsets, from } = reverse;
  const outRows = new Int32Array(queryRows.length * k).fill(-1);
  const outCos = new Float32Array(queryRows.length * k).fill(-Infinity);
  const stamp = new Int32Array(m.rows).fill(-1);
  let cand = new Int32Array(k * (k + 1));
  let total = 0;
  queryRows.forEach((x, i) => {
    let n = 0;
    stamp[x] = i;
    const add = (r: number) => {
      if (r < 0 || stamp[r] === i) return;
      stamp[r] = i;
      if (n === cand.length) {
        const grown = new Int32Array(2 * n);
        grown.set(cand);
        cand = grown;
      }
      cand[n++] = r;
    };
    const expand = (y: number) => {
      add(y);
      if (y >= 0) for (let u = 0; u < k; u++) add(lists[y * k + u]);
    };
    for (let t = 0; t < k; t++) expand(lists[x * k + t]);
    for (let t = offsets[x]; t < offsets[x + 1]; t++) expand(from[t]);
    total += n;
    const rows = cand.subarray(0, n);
    const q = data.subarray(x * d, (x + 1) * d);
    const cos = m.native ? m.native.dots(q, 1, d, data, rows, n) : jsDots(q, data, rows, d);
    const order = Array.from({ length: n }, (_, j) => j).sort((a, b) => cos[b] - cos[a] || rows[a] - rows[b]);
    for (let t = 0; t < Math.min(k, n); t++) {
      outRows[i * k + t] = rows[order[t]];
      outCos[i * k + t] = cos[order[t]];
    }
  });
  return { rows: outRows, cosines: outCos, candidates: total };
}

/** For each row, the rows whose lists hold it (CSR). */
export function reverseLists(lists: Int32Array, rows: number, k: number): { offsets: Int32Array; from: Int32Array } {
  const offsets = new Int32Array(rows + 1);
  for (const y of lists) if (y >= 0) offsets[y + 1]++;
  for (let r = 0; r < rows; r++) offsets[r + 1] += offsets[r];
  const fill = offsets.slice(0, rows);
  const from = new Int32Array(offsets[rows]);
  for (let x = 0; x < rows; x++)
    for (let t = 0; t < k; t++) {
      const y = lists[x * k + t];
      if (y >= 0) from[fill[y]++] = x;
    }
  return { offsets, from };
}

function jsDots(q: Float32Array, data: Float32Array, rows: Int32Array, d: number): Float32Array {
  const out = new Float32Array(rows.length);
  rows.forEach((r, t) => {
    let s = 0;
    for (let j = 0; j < d; j++) s += q[j] * data[r * d + j];
    out[t] = s;
  });
  return out;
}

export interface JoinPhase {
  joins: number;
  /** Stored lists of features [from, to) (feature indices). */
  page(from: number, to: number): Promise<{ idx: number; nnIndices: number[] | null }[]>;
  write(ids: Int32Array, indices: Int32Array, cosines: Float32Array): Promise<void>;
  /** After each stored block: blocks of this phase done (features). */
  progress(done: number): Promise<void>;
  signal?: AbortSignal;
  blockRows: number;
}

/**
 * The joins after the IVF pass, reading the stored lists and writing each block back before the
 * next (an interrupted phase is simply run again on resume: a join never makes a list worse).
 */
export async function runJoins(m: DecoderMatrix, k: number, o: JoinPhase): Promise<void> {
  const page = 65536;
  for (let j = 0; j < o.joins; j++) {
    const lists = new Int32Array(m.rows * k).fill(-1);
    for (let from = 0; from < m.rowOf.length; from += page) {
      for (const r of await o.page(from, from + page)) {
        const row = m.rowOf[r.idx];
        if (row < 0 || !r.nnIndices) continue;
        r.nnIndices.slice(0, k).forEach((idx, t) => (lists[row * k + t] = idx >= 0 && idx < m.rowOf.length ? m.rowOf[idx] : -1));
      }
    }
    const reverse = reverseLists(lists, m.rows, k);
    for (let b = 0; b < m.rows; b += o.blockRows) {
      o.signal?.throwIfAborted();
      const rows = Int32Array.from({ length: Math.min(o.blockRows, m.rows - b) }, (_, i) => b + i);
      const r = joinNeighbours(m, lists, k, rows, reverse);
      await o.write(Int32Array.from(rows, (row) => m.index[row]), Int32Array.from(r.rows, (row) => (row < 0 ? -1 : m.index[row])), r.cosines);
      await o.progress(j * m.rows + b + rows.length);
    }
  }
}
