// Nearest decoder directions by scanning in-process matrices with the native kernel.
// Default: a quantised scan for candidates, then exact float32 cosines re-rank them, and the
// answer is certified exact: each row's quantisation error bounds how far its quantised score
// can be from its exact cosine, and every row whose bound could still beat the k-th exact cosine
// is re-ranked (so the result equals exact: true's over the stored directions):
//   - a few query rows (nearestToVector, one feature's neighbours): the native 4-bit scan when
//     the matrix has 4-bit rows (kernel/native-scan.ts exactTopK, all in C: the 4-bit bound on
//     every row, then for the rows it keeps a tighter bound from a 4-bit code of their residual,
//     then float32 for the rows still in reach; the argument is at exact_core in native/scan4.c);
//   - otherwise: the int8 scan on ONNX Runtime, re-run with 4x the candidates for the queries
//     whose bound did not close. Blocks for neighbour-list builds pass certify: false and keep
//     the fixed overfetch (their recall is measured instead; the bound rarely closes at k = 32).
// exact: the exhaustive float32 scan: for a few queries where the native kernel is built, every
// row's cosine in one pass over the float16 rows (decoder-matrix.ts); otherwise over the matrix
// decoded a block of rows at a time. Every cosine an answer reports is computed by
// rowCosines (or the native exactTopK, the same arithmetic), so default and exact: true agree bit
// for bit; the block products (ONNX Runtime) only choose candidates, and a bound on their float32
// rounding certifies that no row outside the candidates can beat the k-th exact cosine.
import type { Kernel } from "../../kernel/index.ts";
import { blockRows, decodeRange, type DecoderMatrix, rowCosines } from "./decoder-matrix.ts";

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
  /** Certify the approximate scan exact (default true); false: fixed overfetch only. */
  certify?: boolean;
  /** Per query and matrix: how many rows were re-ranked exactly. */
  onStats?: (s: ScanStats) => void;
  /** exact: true's rows per decoded block (default blockRows(d); tests pass a few to cross blocks). */
  blockRows?: number;
}

export interface ScanStats {
  saeId: string;
  /** Rows whose float32 cosine was computed. */
  reranked: number;
  /** Rows the 4-bit bound kept that the 4-bit + residual bound ruled out (native scan only). */
  screened: number;
}

/** Candidates fetched beyond k for the approximate scan before exact re-ranking. */
export const overfetch = (k: number) => Math.max(32, k);
/** The same for the 4-bit scan, whose scores are about 3x noisier than int8's. */
export const overfetch4 = (k: number) => Math.max(64, 2 * k);
/** Query rows up to which the 4-bit scan runs per row; larger blocks use the int8 product. */
export const PACKED4_MAX_QUERIES = 4;

async function scanOne(kernel: Kernel, m: DecoderMatrix, q: Float32Array, qRows: number, opts: ScanOptions): Promise<Neighbour[][]> {
  if (m.rows === 0) return Array.from({ length: qRows }, () => []);
  const d = m.d;
  const certify = !opts.exact && opts.certify !== false;
  // (qRows first: reading m.packed4 packs the rows, which blocks of many queries never need.)
  const native = !opts.exact && qRows <= PACKED4_MAX_QUERIES && m.native && m.packed4 ? m.native : null;
  if (native && m.packed4) {
    const out: Neighbour[][] = [];
    for (let c = 0; c < qRows; c++) {
      const query = q.subarray(c * d, (c + 1) * d);
      const ex = opts.exclude?.[c] ?? null;
      if (certify) {
        const exRow = ex && ex.saeId === m.saeId && ex.index >= 0 && ex.index < m.rowOf.length ? m.rowOf[ex.index] : -1;
        const r = await native.exactTopK(m.packed4, m.half, m.invNorm, query, opts.k, exRow);
        opts.onStats?.({ saeId: m.saeId, reranked: r.reranked, screened: r.screened });
        out.push(rerank(m, r.rows, r.scores, null));
        continue;
      }
      const r = await native.topK(m.packed4, query, Math.min(m.rows, opts.k + 1 + overfetch4(opts.k)));
      out.push(rerank(m, r.rows, native.dots(query, 1, d, m.half, m.invNorm, r.rows, r.rows.length), ex));
    }
    return out;
  }
  if (opts.exact) return exactScan(kernel, m, q, qRows, opts);
  if (certify) return certifiedInt8(kernel, m, q, qRows, opts);
  // One spare row for the excluded feature; the approximate scan fetches extra candidates to re-rank.
  const fetch = Math.min(m.rows, opts.k + 1 + overfetch(opts.k));
  const r = await kernel.topKDotInt8(q, qRows, m.quantized, fetch);
  const got = r.indices.length / qRows;
  const cosines = rowCosines(m, q, qRows, r.indices, got);
  return Array.from({ length: qRows }, (_, c) => {
    const ex = opts.exclude?.[c];
    const list: Neighbour[] = [];
    for (let t = 0; t < got; t++) {
      const index = m.index[r.indices[c * got + t]];
      if (ex && ex.saeId === m.saeId && ex.index === index) continue;
      list.push({ saeId: m.saeId, index, cosine: cosines[c * got + t] });
    }
    return list;
  });
}

/**
 * The k rows per query whose decoded unit rows have the largest dot product, by blocks of
 * decoded rows, returned best first with their float32 products (ties to the lower row). Products
 * are the kernel's (ONNX Runtime or JavaScript), not rowCosines'. For each query also the largest
 * product a row outside the answer can have (-Infinity when none is left out).
 */
export async function topKBlocks(
  kernel: Kernel, m: DecoderMatrix, q: Float32Array, qRows: number, fetch: number, buf?: Float32Array, step = blockRows(m.d),
): Promise<{ indices: Int32Array; values: Float32Array; per: number; beyond: Float32Array }> {
  const { d, rows } = m;
  const per = Math.min(rows, fetch);
  const block = buf && buf.length >= Math.min(rows, step) * d ? buf : new Float32Array(Math.min(rows, step) * d);
  const beyond = new Float32Array(qRows).fill(-Infinity);
  if (rows <= step) {
    const r = await kernel.topKDot(q, qRows, decodeRange(m, 0, rows, block), rows, d, per);
    // The rows not fetched score at most the last fetched product.
    if (per < rows) for (let c = 0; c < qRows; c++) beyond[c] = r.values[c * per + per - 1];
    return { indices: r.indices, values: r.values, per, beyond };
  }
  // Per query, the merged candidates: per best-first values / rows.
  let indices = new Int32Array(qRows * per).fill(-1);
  let values = new Float32Array(qRows * per).fill(-Infinity);
  let nextI = new Int32Array(qRows * per);
  let nextV = new Float32Array(qRows * per);
  for (let r0 = 0; r0 < rows; r0 += step) {
    const n = Math.min(step, rows - r0);
    const kk = Math.min(n, per);
    const r = await kernel.topKDot(q, qRows, decodeRange(m, r0, n, block), n, d, kk);
    for (let c = 0; c < qRows; c++) {
      // The block's unfetched rows score at most its last fetched product.
      if (kk < n) beyond[c] = Math.max(beyond[c], r.values[c * kk + kk - 1]);
      let a = 0;
      let b = 0;
      for (let t = 0; t < per; t++) {
        const va = values[c * per + a];
        const ia = indices[c * per + a];
        const vb = b < kk ? r.values[c * kk + b] : -Infinity;
        const ib = b < kk ? r.indices[c * kk + b] + r0 : -1;
        // Earlier blocks hold lower rows: on a tie the merged one wins.
        if (ia >= 0 && (va >= vb || ib < 0)) {
          nextV[c * per + t] = va;
          nextI[c * per + t] = ia;
          a++;
        } else {
          nextV[c * per + t] = vb;
          nextI[c * per + t] = ib;
          b++;
        }
      }
      // What the merge leaves out: the larger of the dropped merged and block candidates.
      if (a < per && indices[c * per + a] >= 0) beyond[c] = Math.max(beyond[c], values[c * per + a]);
      if (b < kk) beyond[c] = Math.max(beyond[c], r.values[c * kk + b]);
    }
    [indices, nextI] = [nextI, indices];
    [values, nextV] = [nextV, values];
  }
  return { indices, values, per, beyond };
}

/**
 * exact: true. Candidates: the top k + 1 (and more when needed) by the block products; their
 * cosines from rowCosines. Both are float32 sums of the same d products, each within
 * d·eps·‖q‖ of the true value (eps = 2^-24, ‖x‖ = 1), so a row outside the candidates has a
 * cosine of at most beyond + 2·d·eps·max(‖q‖, 1) (slack, doubled again for margin); queries
 * whose k-th cosine does not clear that are scanned again with 4x the candidates.
 */
async function exactScan(kernel: Kernel, m: DecoderMatrix, q: Float32Array, qRows: number, opts: ScanOptions): Promise<Neighbour[][]> {
  const d = m.d;
  // A few queries: every row's exact cosine in one native pass over the float16 rows (half the
  // bytes of a decoded block, read once), no candidates to certify.
  if (m.native && qRows <= PACKED4_MAX_QUERIES && opts.blockRows === undefined) {
    const out: Neighbour[][] = [];
    for (let c = 0; c < qRows; c++) {
      const all = m.native.dots(q.subarray(c * d, (c + 1) * d), 1, d, m.half, m.invNorm, null, m.rows);
      const ex = opts.exclude?.[c];
      const skip = ex && ex.saeId === m.saeId && ex.index >= 0 && ex.index < m.rowOf.length ? m.rowOf[ex.index] : -1;
      out.push(Array.from(topRows(all, opts.k, skip), (r) => ({ saeId: m.saeId, index: m.index[r], cosine: all[r] })));
    }
    return out;
  }
  const out: Neighbour[][] = new Array(qRows);
  let pending = Array.from({ length: qRows }, (_, c) => c);
  let fetch = Math.min(m.rows, opts.k + 1);
  const step = opts.blockRows ?? blockRows(d);
  const buf = new Float32Array(Math.min(m.rows, step) * d);
  for (;;) {
    const block = new Float32Array(pending.length * d);
    pending.forEach((c, i) => block.set(q.subarray(c * d, (c + 1) * d), i * d));
    const r = await topKBlocks(kernel, m, block, pending.length, fetch, buf, step);
    const got = r.per;
    const cosines = rowCosines(m, block, pending.length, r.indices, got);
    const next: number[] = [];
    pending.forEach((c, i) => {
      const ex = opts.exclude?.[c];
      const list: Neighbour[] = [];
      for (let t = 0; t < got; t++) {
        const index = m.index[r.indices[i * got + t]];
        if (ex && ex.saeId === m.saeId && ex.index === index) continue;
        list.push({ saeId: m.saeId, index, cosine: cosines[i * got + t] });
      }
      list.sort(byCosine);
      const top = list.slice(0, opts.k);
      let n2 = 0;
      for (let j = 0; j < d; j++) n2 += block[i * d + j] ** 2;
      const slack = 4 * d * 2 ** -24 * Math.max(Math.sqrt(n2), 1);
      const beyond = r.beyond[i];
      if (beyond === -Infinity || (top.length === opts.k && beyond + slack < top[opts.k - 1].cosine)) out[c] = top;
      else next.push(c);
    });
    if (next.length === 0) return out;
    pending = next;
    fetch = Math.min(m.rows, fetch * 4);
  }
}

const maxRowErr = new WeakMap<Float32Array, number>();

/**
 * The int8 scan, certified: a row outside the fetched candidates scores at most the last
 * candidate's int8 score, and its exact cosine at most that plus the largest error bound
 * (‖q‖·max‖x − x̂‖ + ‖q − q̂‖·(1 + max‖x − x̂‖) + float rounding). Queries whose bound is not
 * yet below their k-th exact cosine are scanned again with 4x the candidates.
 */
async function certifiedInt8(kernel: Kernel, m: DecoderMatrix, q: Float32Array, qRows: number, opts: ScanOptions): Promise<Neighbour[][]> {
  const d = m.d;
  const qz = m.quantized;
  let eMax = maxRowErr.get(qz.rowErr);
  if (eMax === undefined) maxRowErr.set(qz.rowErr, (eMax = qz.rowErr.reduce((a, b) => Math.max(a, b), 0)));
  const slack = 2 * d * 2 ** -23;
  const out: Neighbour[][] = new Array(qRows);
  let pending = Array.from({ length: qRows }, (_, c) => c);
  let fetch = Math.min(m.rows, opts.k + 1 + overfetch(opts.k));
  for (;;) {
    const block = new Float32Array(pending.length * d);
    pending.forEach((c, i) => block.set(q.subarray(c * d, (c + 1) * d), i * d));
    const r = await kernel.topKDotInt8(block, pending.length, qz, fetch);
    const got = r.indices.length / pending.length;
    const cosines = rowCosines(m, block, pending.length, r.indices, got);
    const next: number[] = [];
    pending.forEach((c, i) => {
      const ex = opts.exclude?.[c];
      const list: Neighbour[] = [];
      for (let t = 0; t < got; t++) {
        const index = m.index[r.indices[i * got + t]];
        if (ex && ex.saeId === m.saeId && ex.index === index) continue;
        list.push({ saeId: m.saeId, index, cosine: cosines[i * got + t] });
      }
      list.sort(byCosine);
      const top = list.slice(0, opts.k);
      opts.onStats?.({ saeId: m.saeId, reranked: got, screened: 0 });
      const bound = got === 0 ? -Infinity : r.values[i * got + got - 1] + queryErrBound(block, i * d, d, eMax) + slack;
      if (got >= m.rows || (top.length === opts.k && bound < top[opts.k - 1].cosine)) out[c] = top;
      else next.push(c);
    });
    if (next.length === 0) return out;
    pending = next;
    fetch = Math.min(m.rows, fetch * 4);
  }
}

/** ‖q‖·e + ‖q − q̂‖·(1 + e) for the int8 query quantisation of quantizeQueriesTransposed. */
function queryErrBound(q: Float32Array, o: number, d: number, e: number): number {
  let max = 0;
  let n2 = 0;
  for (let j = 0; j < d; j++) {
    max = Math.max(max, Math.abs(q[o + j]));
    n2 += q[o + j] * q[o + j];
  }
  const s = max / 127;
  const inv = s > 0 ? 1 / s : 0;
  let e2 = 0;
  for (let j = 0; j < d; j++) e2 += (q[o + j] - Math.round(q[o + j] * inv) * s) ** 2;
  return Math.sqrt(n2) * e + Math.sqrt(e2) * (1 + e);
}

/** The k rows of largest score, best first, ties to the lower row, leaving out row `skip`. */
function topRows(scores: Float32Array, k: number, skip: number): Int32Array {
  const rows = new Int32Array(Math.min(k, scores.length));
  let n = 0;
  for (let r = 0; r < scores.length; r++) {
    if (r === skip) continue;
    const s = scores[r];
    // Rows come in increasing order, so an equal score never displaces a kept one.
    if (n === rows.length && !(s > scores[rows[n - 1]])) continue;
    let i = n === rows.length ? n - 1 : n++;
    while (i > 0 && s > scores[rows[i - 1]]) {
      rows[i] = rows[i - 1];
      i--;
    }
    rows[i] = r;
  }
  return rows.subarray(0, n);
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
