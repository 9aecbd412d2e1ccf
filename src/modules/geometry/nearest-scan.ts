// Nearest decoder directions by scanning in-process matrices with the native kernel.
// Default: a quantised scan for candidates, then exact float32 cosines re-rank them (recall
// against the exhaustive scan is measured in tests and scripts/bench/nearest.ts):
//   - a few query rows (nearestToVector, one feature's neighbours): the native 4-bit scan when
//     the matrix has 4-bit rows (kernel/native-scan.ts), which reads half the bytes of int8;
//   - otherwise, and for blocks of many queries (neighbour-list builds): the int8 scan on ONNX
//     Runtime, a matrix product that reads the matrix once per block of queries.
// exact: the exhaustive float32 scan.
import type { Kernel } from "../../kernel/index.ts";
import type { DecoderMatrix } from "./decoder-matrix.ts";

export interface Neighbour {
  saeId: string;
  index: number;
  cosine: number;
}

export interface ScanOptions {
  k: number;
  exact: boolean;
  minCosine: number | null;
  /** Per query: a feature to leave out (the query feature itself). */
  exclude?: ReadonlyArray<{ saeId: string; index: number } | null>;
}

/** Candidates fetched beyond k for the approximate scan before exact re-ranking. */
export const overfetch = (k: number) => Math.max(32, k);
/** The same for the 4-bit scan, whose scores are about 3x noisier than int8's. */
export const overfetch4 = (k: number) => Math.max(64, 2 * k);
/** Query rows up to which the 4-bit scan runs per row; larger blocks use the int8 product. */
export const PACKED4_MAX_QUERIES = 4;

function dot(a: Float32Array, ao: number, b: Float32Array, bo: number, d: number): number {
  let s = 0;
  for (let j = 0; j < d; j++) s += a[ao + j] * b[bo + j];
  return s;
}

async function scanOne(kernel: Kernel, m: DecoderMatrix, q: Float32Array, qRows: number, opts: ScanOptions): Promise<Neighbour[][]> {
  if (m.rows === 0) return Array.from({ length: qRows }, () => []);
  const d = m.d;
  // (qRows first: reading m.packed4 packs the rows, which blocks of many queries never need.)
  const native = !opts.exact && qRows <= PACKED4_MAX_QUERIES && m.native && m.packed4 ? m.native : null;
  if (native && m.packed4) {
    const fetch4 = Math.min(m.rows, opts.k + 1 + overfetch4(opts.k));
    const out: Neighbour[][] = [];
    for (let c = 0; c < qRows; c++) {
      const query = q.subarray(c * d, (c + 1) * d);
      const r = await native.topK(m.packed4, query, fetch4);
      out.push(rerank(m, r.rows, native.dots(query, 1, d, m.data, r.rows, r.rows.length), opts.exclude?.[c] ?? null));
    }
    return out;
  }
  // One spare row for the excluded feature; the approximate scan fetches extra candidates to re-rank.
  const fetch = Math.min(m.rows, opts.k + 1 + (opts.exact ? 0 : overfetch(opts.k)));
  const r = opts.exact ? await kernel.topKDot(q, qRows, m.data, m.rows, d, fetch) : await kernel.topKDotInt8(q, qRows, m.quantized, fetch);
  const got = r.indices.length / qRows;
  // Exact cosines of the approximate candidates, natively where the native module is built.
  const cosines = opts.exact ? r.values : (m.native?.dots(q, qRows, d, m.data, r.indices, got) ?? null);
  return Array.from({ length: qRows }, (_, c) => {
    const ex = opts.exclude?.[c];
    const list: Neighbour[] = [];
    for (let t = 0; t < got; t++) {
      const row = r.indices[c * got + t];
      const index = m.index[row];
      if (ex && ex.saeId === m.saeId && ex.index === index) continue;
      const cosine = cosines ? cosines[c * got + t] : dot(q, c * d, m.data, row * d, d);
      list.push({ saeId: m.saeId, index, cosine });
    }
    return list;
  });
}

/** Candidate rows with their exact cosines, without the excluded feature. */
function rerank(m: DecoderMatrix, rows: Int32Array, cosines: Float32Array, ex: { saeId: string; index: number } | null): Neighbour[] {
  const list: Neighbour[] = [];
  rows.forEach((row, t) => {
    const index = m.index[row];
    if (!(ex && ex.saeId === m.saeId && ex.index === index)) list.push({ saeId: m.saeId, index, cosine: cosines[t] });
  });
  return list;
}

const byCosine = (a: Neighbour, b: Neighbour) =>
  b.cosine - a.cosine || (a.saeId < b.saeId ? -1 : a.saeId > b.saeId ? 1 : a.index - b.index);

/** Top-k neighbours per query row (q: qRows unit vectors of the matrices' dimension), best first. */
export async function scanNearest(kernel: Kernel, matrices: DecoderMatrix[], q: Float32Array, qRows: number, opts: ScanOptions): Promise<Neighbour[][]> {
  const perMatrix: Neighbour[][][] = [];
  for (const m of matrices) perMatrix.push(await scanOne(kernel, m, q, qRows, opts));
  return Array.from({ length: qRows }, (_, c) => {
    const all = perMatrix.flatMap((lists) => lists[c]);
    all.sort(byCosine);
    const min = opts.minCosine;
    return (min === null ? all : all.filter((n) => n.cosine >= min)).slice(0, opts.k);
  });
}
