// Nearest features by decoder cosine.
//   feature → feature in its own SAE, k <= stored list: the precomputed neighbour list
//     (feature.nn_indices/nn_cosines, exact top-K written after ingest) — one indexed row read.
//   everything else (other SAEs, any vector, larger k, lists not built yet): an in-process scan
//     of decoder matrices loaded from the database (int8 candidates + exact re-rank; exact: true
//     is the exhaustive float32 scan). Works for any d_in, including beyond pgvector's limits.
// Strategy and its measurements: scripts/bench/nearest.ts, BENCHMARKS.md.
import { type FeatureKey, featureKey } from "../../shared/feature-key.ts";
import { badInput, notFound } from "../../errors.ts";
import type { Kernel } from "../../kernel/index.ts";
import { checkK, DEFAULT_LIMITS, type RequestLimits } from "../../shared/limits.ts";
import { type DecoderMatrix, decodeRows } from "./decoder-matrix.ts";
import type { GeometryRepository, SaeGeometry } from "./geometry.repository.ts";
import type { MatrixCache } from "./matrix-cache.ts";
import { buildIvf, DEFAULT_JOINS, defaultProbes, ivfNeighbours, ivfQueryBlock } from "./ivf-neighbours.ts";
import { runJoins } from "./neighbour-join.ts";
import { type Neighbour, scanNearest } from "./nearest-scan.ts";

export type { Neighbour } from "./nearest-scan.ts";

/** Neighbours stored per feature after ingest. */
export const STORED_NEIGHBOURS = 32;
/** SAEs one query may scan. */
export const MAX_QUERY_SAES = 64;

export interface NearestOptions {
  k: number;
  saeIds?: readonly string[] | null;
  minCosine?: number | null;
  exact?: boolean;
}

export interface BuildListsOptions {
  k?: number;
  exact?: boolean;
  blockRows?: number;
  /** Drop stored lists first (default true); false builds only the missing ones. */
  restart?: boolean;
  signal?: AbortSignal;
  /** After each stored block: features with a list of those with a decoder. */
  onProgress?: (done: number, total: number) => Promise<void> | void;
  /** Candidates from an IVF partition (ivf-neighbours.ts) instead of a scan of every row: SAEs above the exhaustive cut-off. */
  ivf?: { maxProbes?: number; nlist?: number; joins?: number } | null;
}

/** A feature's stored neighbour list (feature.nn_indices / nn_cosines), null until built. */
export interface StoredList {
  nnIndices: number[] | null;
  nnCosines: number[] | null;
}

/** The first k of a stored list, or null when the list cannot answer k. */
function storedPrefix(key: FeatureKey, l: StoredList, o: NearestOptions): Neighbour[] | null {
  if (!l.nnIndices || !l.nnCosines) return null;
  // A prefix of the exact top-K is the exact top-k; a shorter list is complete only if it
  // already holds every other feature, which the scan path handles.
  if (l.nnIndices.length < o.k) return null;
  const list: Neighbour[] = [];
  for (let t = 0; t < o.k; t++) {
    const cosine = l.nnCosines[t];
    if (o.minCosine != null && cosine < o.minCosine) break;
    list.push({ saeId: key.saeId, index: l.nnIndices[t], cosine });
  }
  return list;
}

export class NearestService {
  constructor(
    private readonly repo: GeometryRepository,
    private readonly cache: MatrixCache,
    private readonly kernel: () => Promise<Kernel>,
    private readonly limits: Pick<RequestLimits, "maxK"> = DEFAULT_LIMITS,
  ) {}

  /** Validates the SAEs of one query: all ready, one model, one d_in. */
  async resolveSaes(saeIds: readonly string[]): Promise<SaeGeometry[]> {
    const ids = [...new Set(saeIds)];
    if (ids.length === 0) throw badInput("saeIds must name at least one SAE");
    if (ids.length > MAX_QUERY_SAES) throw badInput(`saeIds may name at most ${MAX_QUERY_SAES} SAEs, got ${ids.length}`);
    const found = new Map((await this.repo.saes(ids)).map((s) => [s.id, s]));
    const missing = ids.filter((id) => !found.has(id));
    if (missing.length) throw notFound(`SAE ${missing.map((m) => JSON.stringify(m)).join(", ")} not found`);
    const saes = ids.map((id) => found.get(id)!);
    const models = new Set(saes.map((s) => s.modelId));
    if (models.size > 1) throw badInput(`saeIds must belong to one model; got SAEs of ${[...models].sort().join(", ")}`);
    const dims = new Set(saes.map((s) => s.dIn));
    if (dims.size > 1) throw badInput(`saeIds must share one d_in; got ${[...dims].sort((a, b) => a - b).join(", ")}`);
    return saes;
  }

  private checkOptions(o: NearestOptions): void {
    checkK(this.limits, o.k);
    if (o.minCosine != null && !(o.minCosine >= -1 && o.minCosine <= 1)) throw badInput(`minCosine must be between -1 and 1, got ${o.minCosine}`);
  }

  /** Nearest features of one feature (excluding itself). */
  async nearestFeatures(key: FeatureKey, o: NearestOptions): Promise<Neighbour[]> {
    return (await this.nearestFeaturesMany([key], o))[0];
  }

  /** Batched form (Feature.neighbors over a page of features costs one read or one scan). */
  async nearestFeaturesMany(keys: readonly FeatureKey[], o: NearestOptions): Promise<Neighbour[][]> {
    this.checkOptions(o);
    if (keys.length === 0) return [];
    const ownOnly = !o.saeIds || o.saeIds.length === 0;
    if (!o.exact && o.k <= STORED_NEIGHBOURS) {
      const stored = await this.fromStoredLists(keys, o, ownOnly);
      if (stored) return stored;
    }
    // One scan per group of keys that share a target SAE set.
    const out: Neighbour[][] = new Array(keys.length);
    const groups = new Map<string, number[]>();
    keys.forEach((k, i) => {
      const g = ownOnly ? k.saeId : "";
      groups.set(g, [...(groups.get(g) ?? []), i]);
    });
    for (const [own, members] of groups) {
      const saes = await this.resolveSaes(ownOnly ? [own] : o.saeIds!);
      const origin = await this.resolveSaes([...new Set(members.map((i) => keys[i].saeId))]);
      if (origin[0].dIn !== saes[0].dIn || origin[0].modelId !== saes[0].modelId) {
        throw badInput(`saeIds must belong to the model of ${origin[0].id} (${origin[0].modelId})`);
      }
      const matrices = await Promise.all(saes.map((s) => this.cache.get(s)));
      const vectors = await this.decodersOf(members.map((i) => keys[i]), matrices);
      // A feature without a decoder direction has no neighbours; the others still get theirs.
      const withDirection = members.filter((i) => {
        if (vectors.has(featureKey(keys[i]))) return true;
        out[i] = [];
        return false;
      });
      if (withDirection.length === 0) continue;
      const d = saes[0].dIn;
      const q = new Float32Array(withDirection.length * d);
      withDirection.forEach((i, r) => q.set(vectors.get(featureKey(keys[i]))!, r * d));
      const lists = await scanNearest(await this.kernel(), matrices, q, withDirection.length, {
        k: o.k,
        exact: !!o.exact,
        minCosine: o.minCosine ?? null,
        exclude: withDirection.map((i) => keys[i]),
      });
      withDirection.forEach((i, r) => (out[i] = lists[r]));
    }
    return out;
  }

  /** Nearest features to an arbitrary direction. */
  async nearestToVector(vector: readonly number[], o: NearestOptions & { saeIds: readonly string[] }): Promise<Neighbour[]> {
    this.checkOptions(o);
    const saes = await this.resolveSaes(o.saeIds);
    const d = saes[0].dIn;
    if (vector.length !== d) throw badInput(`vector has ${vector.length} components; the SAEs' dIn is ${d}`);
    const q = Float32Array.from(vector);
    let norm = 0;
    for (const x of q) {
      if (!Number.isFinite(x)) throw badInput("vector must contain finite numbers only");
      norm += x * x;
    }
    if (norm === 0) throw badInput("vector must not be all zeros (its direction is undefined)");
    const inv = 1 / Math.sqrt(norm);
    for (let j = 0; j < d; j++) q[j] *= inv;
    return (await this.scan(saes, q, 1, { k: o.k, exact: !!o.exact, minCosine: o.minCosine ?? null }))[0];
  }

  /**
   * Computes and stores every feature's top-K neighbours in its own SAE (run after ingest).
   * Blocked over query rows; candidates from the int8 scan, cosines exact (re-ranked in float32).
   * restart (default): drop the stored lists first; otherwise build only the features that lack
   * one (resuming an interrupted build). Each block is stored before the next starts.
   */
  async buildNeighbourLists(saeId: string, opts: BuildListsOptions = {}) {
    const started = performance.now();
    const [sae] = await this.resolveSaes([saeId]);
    const m = await this.cache.get(sae);
    const k = Math.min(opts.k ?? STORED_NEIGHBOURS, m.rows - 1);
    const restart = opts.restart ?? true;
    if (restart) await this.repo.clearNeighbourLists(saeId);
    if (k <= 0) return { saeId, features: m.rows, built: 0, k: 0, seconds: (performance.now() - started) / 1000 };
    const todo = restart ? m.index : Int32Array.from((await this.repo.withoutNeighbourList(saeId)).filter((i) => i < m.rowOf.length && m.rowOf[i]! >= 0));
    const block = opts.blockRows ?? 2048;
    const kernel = await this.kernel();
    const d = m.d;
    let done = m.rows - todo.length;
    // The IVF build's joins are further passes over every feature: the progress counts them too.
    const joins = opts.ivf ? (opts.ivf.joins ?? DEFAULT_JOINS) : 0;
    const total = m.rows * (1 + joins);
    await opts.onProgress?.(done, total);
    // Rebuilt on resume (seeded, so the same partition): cheap beside the probes.
    const ivf = opts.ivf && todo.length > 0 ? await buildIvf(kernel, m, { nlist: opts.ivf.nlist }) : null;
    // Pass 1 of the IVF build takes its queries in larger blocks than it stores them: each probed
    // cluster costs one product of its members with the block's queries that probe it, so a small
    // block makes many thin products, each decoding the cluster's members again (ivfQueryBlock).
    const step = ivf ? ivfQueryBlock(m.rows, d, ivf.nlist, opts.ivf?.maxProbes ?? defaultProbes(ivf.nlist), block) : block;
    for (let b = 0; b < todo.length; b += step) {
      opts.signal?.throwIfAborted();
      const ids = todo.slice(b, Math.min(todo.length, b + step));
      if (ivf) {
        const r = await ivfNeighbours(kernel, m, ivf, Int32Array.from(ids, (idx) => m.rowOf[idx]!), k, opts.ivf?.maxProbes);
        for (let s = 0; s < ids.length; s += block) {
          opts.signal?.throwIfAborted();
          const e = Math.min(ids.length, s + block);
          await this.repo.writeNeighbourLists(saeId, ids.slice(s, e), k, Int32Array.from(r.rows.subarray(s * k, e * k), (row) => (row < 0 ? -1 : m.index[row])), r.cosines.slice(s * k, e * k));
          done += e - s;
          await opts.onProgress?.(done, total);
        }
        continue;
      }
      const q = decodeRows(m, Int32Array.from(ids, (idx) => m.rowOf[idx]!));
      const lists = await scanNearest(kernel, [m], q, ids.length, {
        k,
        exact: !!opts.exact,
        minCosine: null,
        exclude: Array.from(ids, (index) => ({ saeId, index })),
        certify: false,
      });
      const indices = new Int32Array(ids.length * k);
      const cosines = new Float32Array(ids.length * k);
      lists.forEach((l, r) =>
        l.forEach((n, t) => {
          indices[r * k + t] = n.index;
          cosines[r * k + t] = n.cosine;
        }),
      );
      await this.repo.writeNeighbourLists(saeId, ids, k, indices, cosines);
      done += ids.length;
      await opts.onProgress?.(done, total);
    }
    if (joins > 0) {
      await runJoins(kernel, m, k, {
        joins, blockRows: block, signal: opts.signal,
        page: (from, to) => this.repo.neighbourListPage(saeId, from, to),
        write: (ids, indices, cosines) => this.repo.writeNeighbourLists(saeId, ids, k, indices, cosines),
        progress: async (d) => opts.onProgress?.(m.rows + d, total),
      });
    }
    return { saeId, features: m.rows, built: todo.length, k, seconds: (performance.now() - started) / 1000 };
  }

  private async scan(saes: SaeGeometry[], q: Float32Array, qRows: number, opts: Parameters<typeof scanNearest>[4]) {
    const matrices = await Promise.all(saes.map((s) => this.cache.get(s)));
    return scanNearest(await this.kernel(), matrices, q, qRows, opts);
  }

  /** Answers from the stored lists when every key has one long enough; null otherwise. */
  /**
   * Feature.neighbors of key from its stored list, read elsewhere (the feature page's one
   * statement), or null where the stored list does not answer these options (the loader then
   * takes its usual path and reports its own errors).
   */
  storedNeighbours(key: FeatureKey, list: StoredList, o: NearestOptions): Neighbour[] | null {
    try {
      this.checkOptions(o);
    } catch {
      return null;
    }
    if (o.exact || o.k > STORED_NEIGHBOURS) return null;
    if (o.saeIds && o.saeIds.length > 0 && (new Set(o.saeIds).size !== 1 || o.saeIds[0] !== key.saeId)) return null;
    return storedPrefix(key, list, o);
  }

  private async fromStoredLists(keys: readonly FeatureKey[], o: NearestOptions, ownOnly: boolean): Promise<Neighbour[][] | null> {
    if (!ownOnly) {
      const targets = new Set(o.saeIds);
      if (targets.size !== 1 || keys.some((k) => !targets.has(k.saeId))) return null;
    }
    const lists = new Map((await this.repo.neighbourLists(keys)).map((l) => [featureKey(l), l]));
    const out: Neighbour[][] = [];
    for (const k of keys) {
      const l = lists.get(featureKey(k));
      if (!l) throw notFound(`feature ${featureKey(k)} not found`);
      const list = storedPrefix(k, l, o);
      if (!list) return null;
      out.push(list);
    }
    return out;
  }

  /**
   * Unit decoder rows of the query features: from loaded matrices when there, else the
   * database. Features without a direction (no decoder stored, or an all-zero row) are
   * absent from the map; a feature that does not exist fails the query.
   */
  private async decodersOf(keys: readonly FeatureKey[], loaded: readonly DecoderMatrix[]): Promise<Map<string, Float32Array>> {
    const bySae = new Map(loaded.map((m) => [m.saeId, m]));
    const vectors = new Map<string, Float32Array>();
    const fromDb: FeatureKey[] = [];
    for (const k of keys) {
      const m = bySae.get(k.saeId);
      const row = m && k.index >= 0 && k.index < m.rowOf.length ? m.rowOf[k.index] : -1;
      if (m && row >= 0) vectors.set(featureKey(k), decodeRows(m, [row]));
      else fromDb.push(k);
    }
    if (fromDb.length) {
      for (const [key, v] of await this.repo.decoders(fromDb)) {
        const unit = normalized(v);
        if (unit) vectors.set(key, unit);
      }
    }
    const missing = keys.filter((k) => !vectors.has(featureKey(k)));
    if (missing.length) {
      const existing = await this.repo.existing(missing);
      const absent = missing.find((k) => !existing.has(featureKey(k)));
      if (absent) throw notFound(`feature ${featureKey(absent)} not found`);
    }
    return vectors;
  }
}

/** The unit vector of v (in place), or null for a zero vector (it has no direction). */
function normalized(v: Float32Array): Float32Array | null {
  let n = 0;
  for (const x of v) n += x * x;
  if (!(n > 0)) return null;
  const inv = 1 / Math.sqrt(n);
  for (let j = 0; j < v.length; j++) v[j] *= inv;
  return v;
}
