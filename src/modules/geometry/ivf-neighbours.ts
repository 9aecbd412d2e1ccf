// Sub-quadratic candidates for neighbour lists of SAEs above the exhaustive build's cut-off: an
// inverted-file (IVF) partition of the decoder rows. Spherical k-means on a sample gives unit
// centroids; every row joins its nearest centroid, and each cluster keeps the smallest cosine of
// a member with its centroid (its angular radius r). For a query at angle a from a centroid,
// every member lies at least a − r from the query (triangle inequality on the sphere), so
// cos(max(0, a − r)) bounds the cosine of any member: clusters are probed best bound first, and
// probing stops when the bound falls below the k-th cosine found (nothing left can enter) or
// after maxProbes clusters (the approximation, which the joins of neighbour-join.ts then repair;
// recall is measured in scripts/bench/ivf.ts).
// Candidates' cosines are exact float32 dot products, so every stored cosine is exact. Queries are
// processed cluster by cluster, one matrix product per probed cluster (ivfNeighbours).
import type { Kernel } from "../../kernel/index.ts";
import { seededRandom } from "../../util/random.ts";
import { type DecoderMatrix, decodeRange, decodeRows } from "./decoder-matrix.ts";

export interface Ivf {
  nlist: number;
  /** nlist × d unit centroids. */
  centroids: Float32Array;
  /** Members of cluster c: rows members[offsets[c] .. offsets[c + 1]). */
  offsets: Int32Array;
  members: Int32Array;
  /** Angular radius of each cluster (radians). */
  radius: Float64Array;
}

export interface IvfOptions {
  /** Clusters (default 2·√rows). */
  nlist?: number;
  /** Rows the k-means runs on (default min(rows, 40·nlist)). */
  sample?: number;
  iterations?: number;
  seed?: number;
}

/**
 * Clusters probed per query by default: a twentieth of the clusters, at least 16 — a fixed number
 * loses recall as the SAE grows (32 probes: 0.9943 above the noise floor at 100k × 768 with three
 * joins, 0.9871 at 200k; 45 probes at 200k: 0.9945), so the probed share is held instead (scripts/bench/ivf.ts; figures in
 * scripts/bench/measured-by-hand.md). Pass 1 thus computes about 5% of all pairs' cosines (as
 * matrix products); the joins after it cost the same per feature at any size.
 */
export const DEFAULT_MAX_PROBES = 16;
export const defaultProbes = (nlist: number) => Math.min(nlist, Math.max(DEFAULT_MAX_PROBES, Math.ceil(nlist / 20)));
/** Neighbour joins after the IVF pass (neighbour-join.ts). */
export const DEFAULT_JOINS = 3;

const BLOCK = 4096;

/** Bytes a pass-1 query block may hold in its query rows and query-centroid cosines. */
const QUERY_BLOCK_BYTES = 512 * 2 ** 20;

/**
 * Queries per ivfNeighbours call in a build over every row: enough that a cluster's product in
 * one round (the block's queries that probe it, about block · probes / 2 / nlist, against its
 * rows / nlist members) is about square, so its members are decoded once per hundreds of queries
 * rather than per dozens; within QUERY_BLOCK_BYTES (block · (d + nlist) floats); a multiple of
 * `unit` (the rows stored at a time), at least one unit.
 */
export function ivfQueryBlock(rows: number, d: number, nlist: number, probes: number, unit: number): number {
  const square = Math.ceil((2 * rows) / Math.max(1, Math.min(probes, nlist)));
  const cap = Math.floor(QUERY_BLOCK_BYTES / (4 * (d + nlist)));
  return Math.max(unit, Math.floor(Math.min(square, cap) / unit) * unit);
}

/** Nearest centroid of each of the given rows (null: every row, in order), with its cosine. */
async function assign(kernel: Kernel, m: DecoderMatrix, rows: Int32Array | null, count: number, d: number, centroids: Float32Array, nlist: number) {
  const best = new Int32Array(count);
  const cos = new Float32Array(count);
  const buf = new Float32Array(Math.min(BLOCK, count) * d);
  for (let s = 0; s < count; s += BLOCK) {
    const n = Math.min(BLOCK, count - s);
    const q = (rows ? decodeRows(m, rows.subarray(s, s + n), buf) : decodeRange(m, s, n, buf)).subarray(0, n * d);
    const r = await kernel.topKDot(q, n, centroids, nlist, d, 1);
    best.set(r.indices, s);
    cos.set(r.values, s);
  }
  return { best, cos };
}

export async function buildIvf(kernel: Kernel, m: DecoderMatrix, o: IvfOptions = {}): Promise<Ivf> {
  const { rows, d } = m;
  const nlist = Math.max(1, Math.min(rows, o.nlist ?? Math.round(2 * Math.sqrt(rows))));
  const rand = seededRandom(o.seed ?? 1);
  const sampleN = Math.min(rows, Math.max(nlist, o.sample ?? 40 * nlist));
  // A sample without repeats (partial Fisher–Yates over row numbers).
  const perm = Int32Array.from({ length: rows }, (_, i) => i);
  for (let i = 0; i < sampleN; i++) {
    const j = i + Math.floor(rand() * (rows - i));
    [perm[i], perm[j]] = [perm[j], perm[i]];
  }
  const sample = perm.slice(0, sampleN);
  const centroids = new Float32Array(nlist * d);
  decodeRows(m, sample.subarray(0, nlist), centroids);
  const x = new Float32Array(Math.min(BLOCK, sampleN) * d);
  for (let it = 0; it < (o.iterations ?? 8); it++) {
    const { best } = await assign(kernel, m, sample, sampleN, d, centroids, nlist);
    const sum = new Float64Array(nlist * d);
    const count = new Int32Array(nlist);
    for (let s0 = 0; s0 < sampleN; s0 += BLOCK) {
      const n = Math.min(BLOCK, sampleN - s0);
      decodeRows(m, sample.subarray(s0, s0 + n), x);
      for (let i = 0; i < n; i++) {
        const c = best[s0 + i];
        count[c]++;
        for (let j = 0; j < d; j++) sum[c * d + j] += x[i * d + j];
      }
    }
    for (let c = 0; c < nlist; c++) {
      let norm = 0;
      for (let j = 0; j < d; j++) norm += sum[c * d + j] ** 2;
      if (count[c] === 0 || norm === 0) {
        // An empty cluster restarts at a random sampled row.
        const r = sample[Math.floor(rand() * sampleN)];
        decodeRows(m, [r], centroids, c);
        continue;
      }
      const inv = 1 / Math.sqrt(norm);
      for (let j = 0; j < d; j++) centroids[c * d + j] = sum[c * d + j] * inv;
    }
  }
  const { best, cos } = await assign(kernel, m, null, rows, d, centroids, nlist);
  const offsets = new Int32Array(nlist + 1);
  for (let i = 0; i < rows; i++) offsets[best[i] + 1]++;
  for (let c = 0; c < nlist; c++) offsets[c + 1] += offsets[c];
  const fill = offsets.slice(0, nlist);
  const members = new Int32Array(rows);
  const minCos = new Float64Array(nlist).fill(1);
  for (let i = 0; i < rows; i++) {
    const c = best[i];
    members[fill[c]++] = i;
    minCos[c] = Math.min(minCos[c], cos[i]);
  }
  // float32 rounding of the member cosines: widen each radius by a little.
  const radius = Float64Array.from(minCos, (x) => Math.min(Math.PI, Math.acos(Math.max(-1, Math.min(1, x))) + 1e-4));
  return { nlist, centroids, offsets, members, radius };
}

export interface IvfQueryStats {
  /** (query, cluster) pairs probed. */
  probed: number;
  /** (query, row) cosines computed. */
  candidates: number;
  /** Matrix products run (one per probed cluster per round of a block). */
  products?: number;
}

/**
 * Top-k neighbours (rows, cosines, best first, ties to the lower row) of the given matrix rows,
 * each leaving itself out, from the IVF candidates.
 *
 * Cluster by cluster: each query picks its `maxProbes` clusters of best bound (as above); then
 * for every probed cluster the queries that probe it are gathered into one block and their
 * cosines with all of the cluster's members come from ONE matrix product on the kernel (exact
 * float32 dot products, the same values a row-by-row dot gives up to summation order), and a
 * per-query top-k heap keeps the best. Probing runs in two rounds: the first half of every
 * query's probes unconditionally, then each remaining probe only if its bound can still reach the
 * query's k-th cosine after round one. Stopping stays sound: a cluster skipped in round two has
 * bound < the k-th cosine found, which only grows, so none of its members could enter the list;
 * and every cluster a sequential best-bound-first probe would visit (it stops at the first such
 * bound, and bounds only decrease along the order) is visited here, so each list is at least as
 * good as the sequential one.
 */
export async function ivfNeighbours(
  kernel: Kernel, m: DecoderMatrix, ivf: Ivf, queryRows: Int32Array, k: number, maxProbes = defaultProbes(ivf.nlist), stats?: IvfQueryStats,
): Promise<{ rows: Int32Array; cosines: Float32Array }> {
  const { d } = m;
  const nq = queryRows.length;
  const nlist = ivf.nlist;
  const q = decodeRows(m, queryRows);
  // Query-centroid cosines for the whole block in one product.
  const qc = await kernel.gemm(q, ivf.centroids, nq, nlist, d, { transB: true });
  const probes = Math.min(maxProbes, nlist);
  // Per query: its `probes` clusters with the smallest a − r, in increasing order.
  const order = new Int32Array(nq * probes);
  const key = new Float64Array(nq * probes);
  const nProbe = new Int32Array(nq);
  for (let i = 0; i < nq; i++) {
    const base = i * probes;
    let n = 0;
    for (let c = 0; c < nlist; c++) {
      const a = Math.acos(Math.max(-1, Math.min(1, qc[i * nlist + c])));
      const kk = a - ivf.radius[c];
      if (n === probes && kk >= key[base + n - 1]) continue;
      let p = n < probes ? n++ : n - 1;
      while (p > 0 && key[base + p - 1] > kk) {
        key[base + p] = key[base + p - 1];
        order[base + p] = order[base + p - 1];
        p--;
      }
      key[base + p] = kk;
      order[base + p] = c;
    }
    nProbe[i] = n;
  }
  const heapS = new Float32Array(nq * k);
  const heapR = new Int32Array(nq * k);
  const size = new Int32Array(nq);
  const counts = new Int32Array(nlist + 1);
  const byCluster = new Int32Array(nq * probes);
  let qBuf = new Float32Array(0);
  let mBuf = new Float32Array(0);
  const round = async (t0: number, t1: number) => {
    // Which queries probe each cluster this round (CSR over clusters).
    counts.fill(0);
    const wants = (i: number, t: number) => {
      if (t >= nProbe[i]) return false;
      if (size[i] < k) return true;
      const kk = key[i * probes + t];
      return (kk <= 0 ? 1 : Math.cos(kk)) >= heapS[i * k];
    };
    for (let i = 0; i < nq; i++) for (let t = t0; t < t1; t++) if (wants(i, t)) counts[order[i * probes + t] + 1]++;
    for (let c = 0; c < nlist; c++) counts[c + 1] += counts[c];
    const fill = counts.slice(0, nlist);
    for (let i = 0; i < nq; i++) for (let t = t0; t < t1; t++) if (wants(i, t)) byCluster[fill[order[i * probes + t]]++] = i;
    for (let c = 0; c < nlist; c++) {
      const qn = counts[c + 1] - counts[c];
      const lo = ivf.offsets[c];
      const mn = ivf.offsets[c + 1] - lo;
      if (qn === 0 || mn === 0) continue;
      if (qBuf.length < qn * d) qBuf = new Float32Array(Math.max(qn * d, 2 * qBuf.length));
      if (mBuf.length < mn * d) mBuf = new Float32Array(Math.max(mn * d, 2 * mBuf.length));
      for (let j = 0; j < qn; j++) {
        const i = byCluster[counts[c] + j];
        qBuf.set(q.subarray(i * d, (i + 1) * d), j * d);
      }
      decodeRows(m, ivf.members.subarray(lo, lo + mn), mBuf);
      const cos = await kernel.gemm(qBuf, mBuf, qn, mn, d, { transB: true });
      if (stats) {
        stats.probed += qn;
        stats.candidates += qn * mn;
        stats.products = (stats.products ?? 0) + 1;
      }
      for (let j = 0; j < qn; j++) {
        const i = byCluster[counts[c] + j];
        const self = queryRows[i];
        const hs = heapS.subarray(i * k, (i + 1) * k);
        const hr = heapR.subarray(i * k, (i + 1) * k);
        let n = size[i];
        const row = j * mn;
        for (let t = 0; t < mn; t++) {
          const v = cos[row + t];
          // Quick reject against the heap's worst (the common case once the list is full).
          if (n === k && v < hs[0]) continue;
          const r = ivf.members[lo + t];
          if (r !== self) n = offer(hs, hr, n, k, v, r);
        }
        size[i] = n;
      }
    }
  };
  const first = Math.ceil(probes / 2);
  await round(0, first);
  await round(first, probes);
  const outRows = new Int32Array(nq * k).fill(-1);
  const outCos = new Float32Array(nq * k).fill(-Infinity);
  for (let i = 0; i < nq; i++) {
    const hs = heapS.subarray(i * k, (i + 1) * k);
    const hr = heapR.subarray(i * k, (i + 1) * k);
    let n = size[i];
    const self = queryRows[i];
    const qo = i * d;
    const x = new Float32Array(d);
    // Too few candidates for a full list (tiny clusters): the other clusters too, so a stored list is always full.
    if (n < k && nProbe[i] < nlist) {
      const probed = new Set(order.subarray(i * probes, i * probes + nProbe[i]));
      for (let c = 0; c < nlist && n < k; c++) {
        if (probed.has(c)) continue;
        for (let t = ivf.offsets[c]; t < ivf.offsets[c + 1]; t++) {
          const r = ivf.members[t];
          if (r !== self) n = offer(hs, hr, n, k, dotRow(decodeRows(m, [r], x), qo, q, d), r);
        }
      }
    }
    drain(hs, hr, n, outCos, outRows, i * k);
  }
  return { rows: outRows, cosines: outCos };
}

function dotRow(x: Float32Array, qo: number, q: Float32Array, d: number): number {
  let s = 0;
  for (let j = 0; j < d; j++) s += q[qo + j] * x[j];
  return s;
}

// A min-heap of (cosine, row) holding the k best: worse = lower cosine, or equal and higher row.
const worse = (s: Float32Array, r: Int32Array, a: number, b: number) => s[a] < s[b] || (s[a] === s[b] && r[a] > r[b]);

function swap(s: Float32Array, r: Int32Array, a: number, b: number) {
  const ts = s[a];
  s[a] = s[b];
  s[b] = ts;
  const tr = r[a];
  r[a] = r[b];
  r[b] = tr;
}

function down(s: Float32Array, r: Int32Array, size: number, i: number) {
  for (;;) {
    const l = 2 * i + 1;
    let m = i;
    if (l < size && worse(s, r, l, m)) m = l;
    if (l + 1 < size && worse(s, r, l + 1, m)) m = l + 1;
    if (m === i) return;
    swap(s, r, i, m);
    i = m;
  }
}

/** Offers (cos, row) to a min-heap of the k best (s, r hold it; size entries so far); returns the new size. */
export function offer(s: Float32Array, r: Int32Array, size: number, k: number, cos: number, row: number): number {
  if (size < k) {
    let i = size++;
    s[i] = cos;
    r[i] = row;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!worse(s, r, i, p)) break;
      swap(s, r, i, p);
      i = p;
    }
    return size;
  }
  if (cos > s[0] || (cos === s[0] && row < r[0])) {
    s[0] = cos;
    r[0] = row;
    down(s, r, size, 0);
  }
  return size;
}

/** Empties a heap of `size` entries into out[at ..], best first. */
export function drain(s: Float32Array, r: Int32Array, size: number, outCos: Float32Array, outRows: Int32Array, at: number): void {
  for (let t = size - 1; t >= 0; t--) {
    outCos[at + t] = s[0];
    outRows[at + t] = r[0];
    s[0] = s[size - 1];
    r[0] = r[size - 1];
    size--;
    down(s, r, size, 0);
  }
}
