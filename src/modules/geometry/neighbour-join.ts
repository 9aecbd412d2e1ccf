// The second pass of the IVF neighbour-list build: a neighbour of a neighbour is likely a
// neighbour (SAE features come in neighbourhoods whose members all have cosines well above the
// noise floor with one another, but each member's own random part scatters them over IVF
// clusters). For every feature y, the features of its list and those whose lists hold it (the
// relation is symmetric: a pair either side found counts) are all compared with one another and
// with y; cosines are exact float32 dot products, and every current list is among the
// candidates, so a pass only ever improves a list. A join runs pivot by pivot, one matrix product
// per pivot (joinAll).
import type { Kernel } from "../../kernel/index.ts";
import { type DecoderMatrix, decodeRows } from "./decoder-matrix.ts";
import { drain, offer } from "./ivf-neighbours.ts";

/** Heap insert that ignores a row already held (a pair reaches a row through several pivots). */
function offerUnique(hs: Float32Array, hr: Int32Array, size: number, k: number, cos: number, row: number): number {
  if (size === k && (cos < hs[0] || (cos === hs[0] && row > hr[0]))) return size;
  for (let t = 0; t < size; t++) if (hr[t] === row) return size;
  return offer(hs, hr, size, k, cos, row);
}

export interface JoinOptions {
  /** After each chunk of pivots: pivots done. */
  onPivots?: (done: number) => Promise<void> | void;
  /** Pivots between onPivots calls (default 4096). */
  chunk?: number;
  signal?: AbortSignal;
  /** Candidates of x ∈ B(y): {y} ∪ N(y) only (the per-row join's set) instead of {y} ∪ B(y). */
  listsOnly?: boolean;
}

/**
 * One join over every row, as matrix products. lists: every row's current neighbour rows
 * (rows × k, -1 for none). Pivot by pivot: B(y) = N(y) ∪ R(y) (y's list and the rows whose lists
 * hold it); every x of B(y) gets the candidates {y} ∪ B(y) (NN-descent's local join: x reaches
 * its neighbours' neighbours and the rows that list them, either way round), so each pivot costs
 * ONE product of the gathered rows B(y) × ({y} ∪ B(y)) on the kernel (each gathered row is used
 * dozens of times, where a per-row dot reads it once), and a per-row top-k heap keeps the best.
 * listsOnly narrows the candidates to {y} ∪ N(y) (the per-row join: N(N(x) ∪ R(x))); measured
 * at 50k × 768 the local join reaches recall 0.995 above the floor in two joins where that needs
 * three (scripts/bench/ivf.ts). Every current neighbour y of x comes back through pivot y, so a
 * join never makes a list worse. Returns every row's top-k (rows and cosines, best first, ties to
 * the lower row).
 */
export async function joinAll(kernel: Kernel, m: DecoderMatrix, lists: Int32Array, k: number, o: JoinOptions = {}): Promise<{ rows: Int32Array; cosines: Float32Array; candidates: number; products: number }> {
  const { d, rows: n } = m;
  const { offsets, from } = reverseLists(lists, n, k);
  const hs = new Float32Array(n * k);
  const hr = new Int32Array(n * k);
  const size = new Int32Array(n);
  const stamp = new Int32Array(n).fill(-1);
  let left = new Int32Array(4 * k);
  let right = new Int32Array(k + 1);
  let aBuf = new Float32Array(left.length * d);
  let bBuf = new Float32Array((k + 1) * d);
  let candidates = 0;
  let products = 0;
  const chunk = o.chunk ?? 4096;
  for (let y = 0; y < n; y++) {
    if (y % chunk === 0 && y > 0) {
      o.signal?.throwIfAborted();
      await o.onPivots?.(y);
    }
    // B(y), without repeats (mutual neighbours are in both).
    let nl = 0;
    const addLeft = (x: number) => {
      if (x < 0 || x === y || stamp[x] === y) return;
      stamp[x] = y;
      if (nl === left.length) {
        const grown = new Int32Array(2 * nl);
        grown.set(left);
        left = grown;
        const ga = new Float32Array(left.length * d);
        ga.set(aBuf);
        aBuf = ga;
      }
      left[nl++] = x;
    };
    for (let t = 0; t < k; t++) addLeft(lists[y * k + t]);
    for (let t = offsets[y]; t < offsets[y + 1]; t++) addLeft(from[t]);
    if (nl === 0) continue;
    decodeRows(m, left.subarray(0, nl), aBuf);
    let nr = 0;
    if (!o.listsOnly) {
      if (right.length < nl + 1) {
        right = new Int32Array(2 * (nl + 1));
        bBuf = new Float32Array(right.length * d);
      }
      right[nr++] = y;
      right.set(left.subarray(0, nl), 1);
      nr += nl;
      decodeRows(m, [y], bBuf);
      bBuf.set(aBuf.subarray(0, nl * d), d);
    } else {
      right[nr++] = y;
      for (let t = 0; t < k; t++) {
        const v = lists[y * k + t];
        if (v >= 0 && v !== y) right[nr++] = v;
      }
      decodeRows(m, right.subarray(0, nr), bBuf);
    }
    const cos = await kernel.gemm(aBuf, bBuf, nl, nr, d, { transB: true });
    products++;
    candidates += nl * nr;
    for (let a = 0; a < nl; a++) {
      const x = left[a];
      const h0 = x * k;
      const s = hs.subarray(h0, h0 + k);
      const r = hr.subarray(h0, h0 + k);
      let sz = size[x];
      for (let b = 0; b < nr; b++) {
        const v = right[b];
        if (v === x) continue;
        sz = offerUnique(s, r, sz, k, cos[a * nr + b], v);
      }
      size[x] = sz;
    }
  }
  await o.onPivots?.(n);
  const outRows = new Int32Array(n * k).fill(-1);
  const outCos = new Float32Array(n * k).fill(-Infinity);
  for (let x = 0; x < n; x++) drain(hs.subarray(x * k, (x + 1) * k), hr.subarray(x * k, (x + 1) * k), size[x], outCos, outRows, x * k);
  return { rows: outRows, cosines: outCos, candidates, products };
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
 * The joins after the IVF pass, reading the stored lists; each join runs over every pivot
 * (progress per chunk of pivots) and then writes every list back in blocks (an interrupted phase
 * is simply run again on resume: a join never makes a list worse).
 */
export async function runJoins(kernel: Kernel, m: DecoderMatrix, k: number, o: JoinPhase): Promise<void> {
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
    const r = await joinAll(kernel, m, lists, k, { signal: o.signal, chunk: o.blockRows, onPivots: (done) => (done < m.rows ? o.progress(j * m.rows + done) : undefined) });
    for (let b = 0; b < m.rows; b += o.blockRows) {
      o.signal?.throwIfAborted();
      const e = Math.min(m.rows, b + o.blockRows);
      const ids = m.index.slice(b, e);
      await o.write(ids, Int32Array.from(r.rows.subarray(b * k, e * k), (row) => (row < 0 ? -1 : m.index[row])), r.cosines.slice(b * k, e * k));
    }
    await o.progress((j + 1) * m.rows);
  }
}
