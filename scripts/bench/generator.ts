// SAE-like decoder sets for benchmarks and tests, deterministic from a seed and random-access:
// any row can be generated on its own, so 1M x 4096 sets stream in chunks without ever being held.
//
// Geometry of one SAE (see BENCHMARKS.md for the measured nearest-neighbour histogram):
// - features come in neighbourhoods: clusters of 2-12 around a random centre c; a member is
//   v = a*c + sqrt(1-a^2)*r (r random) with a ~ U(0.45, 0.8), so two members have cosine ~ a_i*a_j
//   (0.2-0.64): nearest-neighbour cosines mostly 0.2-0.6; 5% of clusters are tight (a ~ U(0.8, 0.95));
// - a third of the clusters are singletons: nearly orthogonal to everything (random floor
//   ~ sqrt(2 ln n / d));
// - ~1% near-duplicates (a noisy copy of another row, cosine > 0.9);
// - ~2% low-norm rows (norm 0.01-0.1, random direction: dead-like); the others have norm ~1 +- 10%.
// Cluster members are scattered over the index range (a seeded permutation), as in real SAEs.
//
// Families (planted splits, ground truth for lineage): the smallest size is an SAE-like set; each
// feature of the next size is either INHERITED from one parent of the size below -
//   STABLE child: v = a*p + sqrt(1-a^2)*r, a ~ U(0.85, 0.97)
//   SPLIT children (2+ of one parent): a ~ U(0.55, 0.8), so the parent ~ normalised sum of its
//   children plus noise (cosine ~0.8 for three children)
// - or NOVEL (a fresh random direction), or low-norm. Parents with no child are VANISHED.
// Rows are returned raw (with their norm); cosine users normalise, as with real checkpoints.

export interface Geometry {
  /** Fraction of clusters that are singletons. */
  singletonClusters: number;
  clusterSize: [number, number];
  /** Loading of a member on its cluster centre. */
  alpha: [number, number];
  /** Fraction of clusters that are tight (loading `tightAlpha`: cosines 0.64-0.9 between members). */
  tightClusters: number;
  tightAlpha: [number, number];
  nearDuplicates: number;
  /** Noise of a near-duplicate relative to a unit row (0.25 -> cosine ~0.97). */
  duplicateNoise: number;
  lowNorm: number;
  lowNormRange: [number, number];
  normJitter: number;
}

export const DEFAULT_GEOMETRY: Geometry = {
  singletonClusters: 0.33,
  clusterSize: [2, 12],
  alpha: [0.45, 0.8],
  tightClusters: 0.05,
  tightAlpha: [0.8, 0.95],
  nearDuplicates: 0.01,
  duplicateNoise: 0.25,
  lowNorm: 0.02,
  lowNormRange: [0.01, 0.1],
  normJitter: 0.1,
};

export interface DecoderSpec {
  n: number;
  d: number;
  seed?: number;
  geometry?: Partial<Geometry>;
}

// ------------------------------------------------------------------------------------------------
// Randomness: a counter-based hash per (stream, row) so rows are independent of generation order.

function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}

export class Rng {
  private s: number;
  constructor(...keys: number[]) {
    let h = 0x9e3779b9;
    for (const k of keys) h = mix32(h ^ mix32((k >>> 0) + Math.floor(k / 4294967296)));
    this.s = h;
  }
  /** 32 random bits (mulberry32). */
  u32(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  next(): number {
    return this.u32() / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }
  /** Fills out[off..off+len) with standard normals from a 64k-quantile table (fast; tails cut at ~4.3 sigma). */
  gaussians(out: Float32Array, off: number, len: number, scale = 1): void {
    const t = GAUSS;
    let i = 0;
    for (; i + 1 < len; i += 2) {
      const r = this.u32();
      out[off + i] = t[r & 0xffff] * scale;
      out[off + i + 1] = t[r >>> 16] * scale;
    }
    if (i < len) out[off + i] = t[this.u32() & 0xffff] * scale;
  }
}

/** Inverse normal CDF (Acklam), for the quantile table. */
function probit(p: number): number {
  const a = [-39.69683028665376, 220.9460984245205, -275.928510446969, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const e = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const pl = 0.02425;
  if (p < pl) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((e[0] * q + e[1]) * q + e[2]) * q + e[3]) * q + 1);
  }
  if (p > 1 - pl) return -probit(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

const GAUSS = Float32Array.from({ length: 65536 }, (_, k) => probit((k + 0.5) / 65536));

function shuffled(n: number, rng: Rng): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

export function normalizeRow(m: Float32Array, off: number, d: number): number {
  let s = 0;
  for (let j = 0; j < d; j++) s += m[off + j] * m[off + j];
  const norm = Math.sqrt(s);
  const inv = norm > 0 ? 1 / norm : 0;
  for (let j = 0; j < d; j++) m[off + j] *= inv;
  return norm;
}

// ------------------------------------------------------------------------------------------------
// Plans: the per-row structure (O(n) memory), from which rows are generated on demand.

/** How each row of one SAE (or one size of a family) is made. */
export interface RowPlan {
  n: number;
  d: number;
  seed: number;
  /** Stream id: 0 for a lone SAE, the level for family sizes. */
  level: number;
  /** Cluster id (centre stream) or -1 for a lone random direction. Level-0 only. */
  cluster: Int32Array;
  /** Parent row in the level below, or -1. Levels > 0 only. */
  parent: Int32Array;
  /** Loading on the centre (level 0) or on the parent (level > 0). */
  alpha: Float32Array;
  /** Source row of a near-duplicate, or -1. */
  dupOf: Int32Array;
  norm: Float32Array;
  geometry: Geometry;
  /** The plan of the level below (families). */
  below: RowPlan | null;
}

function emptyPlan(n: number, d: number, seed: number, level: number, g: Geometry, below: RowPlan | null): RowPlan {
  return {
    n, d, seed, level, geometry: g, below,
    cluster: new Int32Array(n).fill(-1),
    parent: new Int32Array(n).fill(-1),
    alpha: new Float32Array(n),
    dupOf: new Int32Array(n).fill(-1),
    norm: new Float32Array(n),
  };
}

/** Near-duplicates and low norms on top of a plan (rows that are neither stay as planned). */
function finishPlan(p: RowPlan, rng: Rng): void {
  const g = p.geometry;
  for (let i = 0; i < p.n; i++) {
    const lowNorm = rng.next() < g.lowNorm;
    p.norm[i] = lowNorm ? rng.uniform(...g.lowNormRange) : 1 + g.normJitter * (2 * rng.next() - 1);
    if (lowNorm) {
      p.cluster[i] = -1; // dead-like rows point anywhere
      p.parent[i] = -1;
      p.alpha[i] = 0;
    }
  }
  const dups = Math.floor(p.n * g.nearDuplicates);
  for (let t = 0; t < dups; t++) {
    const dst = rng.int(p.n);
    const src = rng.int(p.n);
    if (dst !== src && p.dupOf[src] < 0) p.dupOf[dst] = src;
  }
}

/** The plan of one SAE-like set (level 0). */
export function planDecoders(spec: DecoderSpec): RowPlan {
  const g = { ...DEFAULT_GEOMETRY, ...spec.geometry };
  const seed = spec.seed ?? 1;
  const p = emptyPlan(spec.n, spec.d, seed, 0, g, null);
  const rng = new Rng(seed, 0xc1);
  const order = shuffled(spec.n, rng);
  let i = 0;
  let cluster = 0;
  while (i < spec.n) {
    const single = rng.next() < g.singletonClusters;
    const size = Math.min(spec.n - i, single ? 1 : g.clusterSize[0] + rng.int(g.clusterSize[1] - g.clusterSize[0] + 1));
    const range = rng.next() < g.tightClusters ? g.tightAlpha : g.alpha;
    for (let c = 0; c < size; c++, i++) {
      const row = order[i];
      p.cluster[row] = single ? -1 : cluster;
      p.alpha[row] = single ? 0 : rng.uniform(...range);
    }
    if (!single) cluster++;
  }
  finishPlan(p, rng);
  return p;
}

export interface FamilySpec {
  /** Sizes of the family, any order (sorted ascending). */
  sizes: number[];
  d: number;
  seed?: number;
  geometry?: Partial<Geometry>;
  /** Fraction of each larger size made of inherited features (the rest NOVEL). Default 0.85. */
  inherited?: number;
  /** Probability that a parent has no child at all. Default 0.05. */
  vanish?: number;
}

/** Plans for every size of a family, smallest first (levels 0..). */
export function planFamily(spec: FamilySpec): RowPlan[] {
  const sizes = [...spec.sizes].sort((a, b) => a - b);
  const seed = spec.seed ?? 1;
  const g = { ...DEFAULT_GEOMETRY, ...spec.geometry };
  const plans = [planDecoders({ n: sizes[0], d: spec.d, seed, geometry: g })];
  const inherited = spec.inherited ?? 0.85;
  const vanish = spec.vanish ?? 0.05;
  for (let s = 1; s < sizes.length; s++) {
    const below = plans[s - 1];
    const n = sizes[s];
    const rng = new Rng(seed, 0xfa, s);
    // Children per parent: 0 with probability `vanish`, else 1 + Poisson(lambda), mean = inherited*n/nBelow.
    const mean = (inherited * n) / below.n;
    const lambda = Math.max(0, mean / (1 - vanish) - 1);
    const counts = new Int32Array(below.n);
    let total = 0;
    for (let q = 0; q < below.n; q++) {
      if (rng.next() < vanish) continue;
      let k = 0;
      for (let t = Math.exp(-lambda), prod = rng.next(); prod > t; prod *= rng.next()) k++;
      counts[q] = 1 + k;
      total += counts[q];
    }
    while (total > n) {
      const q = rng.int(below.n); // trim at random until the children fit
      if (counts[q] > 0) (counts[q]--, total--);
    }
    const p = emptyPlan(n, spec.d, seed, s, g, below);
    const order = shuffled(n, rng);
    let i = 0;
    for (let q = 0; q < below.n; q++) {
      const split = counts[q] > 1;
      for (let c = 0; c < counts[q]; c++, i++) {
        const row = order[i];
        p.parent[row] = q;
        p.alpha[row] = split ? rng.uniform(0.55, 0.8) : rng.uniform(0.85, 0.97);
      }
    }
    finishPlan(p, rng); // rows order[i..n) stay NOVEL random directions
    plans.push(p);
  }
  return plans;
}

// ------------------------------------------------------------------------------------------------
// Rows

const tmp = new Map<number, Float32Array>();
function scratch(key: number, d: number): Float32Array {
  let b = tmp.get(key);
  if (!b || b.length !== d) tmp.set(key, (b = new Float32Array(d)));
  return b;
}

/** Unit direction of row i into out[off..off+d) (before its norm is applied). */
function unitRow(p: RowPlan, i: number, out: Float32Array, off: number, depth = 0): void {
  const d = p.d;
  const src = p.dupOf[i];
  if (src >= 0) {
    unitRow(p, src, out, off, depth);
    const noise = scratch(100 + depth, d);
    new Rng(p.seed, 0xd0, p.level, i).gaussians(noise, 0, d, p.geometry.duplicateNoise / Math.sqrt(d));
    for (let j = 0; j < d; j++) out[off + j] += noise[j];
    normalizeRow(out, off, d);
    return;
  }
  const rng = new Rng(p.seed, 0xa0, p.level, i);
  const a = p.alpha[i];
  let anchor: Float32Array | null = null;
  if (p.level === 0 && p.cluster[i] >= 0) {
    anchor = scratch(200 + depth, d);
    new Rng(p.seed, 0xce, p.cluster[i]).gaussians(anchor, 0, d);
    normalizeRow(anchor, 0, d);
  } else if (p.level > 0 && p.parent[i] >= 0 && p.below) {
    anchor = scratch(300 + depth, d);
    unitRow(p.below, p.parent[i], anchor, 0, depth + 1);
  }
  rng.gaussians(out, off, d, 1 / Math.sqrt(d));
  if (anchor) {
    normalizeRow(out, off, d);
    const b = Math.sqrt(1 - a * a);
    for (let j = 0; j < d; j++) out[off + j] = a * anchor[j] + b * out[off + j];
  }
  normalizeRow(out, off, d);
}

/** Row i as stored in a checkpoint (direction times its norm) into out[off..off+d). */
export function decoderRow(p: RowPlan, i: number, out: Float32Array, off = 0): void {
  unitRow(p, i, out, off);
  const s = p.norm[i];
  for (let j = 0; j < p.d; j++) out[off + j] *= s;
}

export interface DecoderChunk {
  start: number;
  rows: number;
  /** rows x d, raw (with norms). */
  data: Float32Array;
}

/** Rows [start, end) in chunks of `chunkRows` (the buffer is reused: copy what you keep). */
export function* decoderChunks(p: RowPlan, chunkRows = 4096, start = 0, end = p.n): Generator<DecoderChunk> {
  const buf = new Float32Array(Math.min(chunkRows, Math.max(1, end - start)) * p.d);
  for (let s = start; s < end; s += chunkRows) {
    const rows = Math.min(chunkRows, end - s);
    for (let r = 0; r < rows; r++) decoderRow(p, s + r, buf, r * p.d);
    yield { start: s, rows, data: rows * p.d === buf.length ? buf : buf.subarray(0, rows * p.d) };
  }
}

/** All rows at once (n x d float32, raw). For sizes that fit in memory. */
export function generateDecoders(p: RowPlan): Float32Array {
  if (p.n * p.d > 2 ** 31) throw new Error(`${p.n} x ${p.d} is too large to hold at once: stream it with decoderChunks()`);
  const out = new Float32Array(p.n * p.d);
  for (let i = 0; i < p.n; i++) decoderRow(p, i, out, i * p.d);
  return out;
}

/** Unit-normalised copy of n x d rows and their norms. */
export function unitRows(raw: Float32Array, n: number, d: number): { unit: Float32Array; norms: Float32Array } {
  const unit = raw.slice(0, n * d);
  const norms = new Float32Array(n);
  for (let i = 0; i < n; i++) norms[i] = normalizeRow(unit, i * d, d);
  return { unit, norms };
}

// ------------------------------------------------------------------------------------------------
// Ground truth for lineage

export type SplitKind = "STABLE" | "SPLIT" | "VANISHED";

/** Planted parent of each row of `p` in the level below (-1: NOVEL or low-norm), and the parents' kinds. */
export function plantedLineage(p: RowPlan): { parentOf: Int32Array; childCount: Int32Array; kinds: SplitKind[] } {
  if (!p.below) throw new Error("level 0 has no parents");
  const childCount = new Int32Array(p.below.n);
  const parentOf = new Int32Array(p.n);
  for (let i = 0; i < p.n; i++) {
    // a near-duplicate copies another row's direction, so its lineage is that row's
    const q = p.dupOf[i] >= 0 ? p.parent[p.dupOf[i]] : p.parent[i];
    parentOf[i] = q;
    if (q >= 0) childCount[q]++;
  }
  const kinds = Array.from(childCount, (c): SplitKind => (c === 0 ? "VANISHED" : c === 1 ? "STABLE" : "SPLIT"));
  return { parentOf, childCount, kinds };
}
