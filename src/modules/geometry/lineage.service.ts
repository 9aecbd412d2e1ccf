// Split lineage across a family of SAE sizes: building (exact, blocked products on the native
// kernel, then one transaction replacing the family's edges and node kinds) and reading the
// stored graph.
import { type FeatureKey, featureKey } from "../../shared/feature-key.ts";
import { AppError, badInput, ErrorCode, notFound } from "../../errors.ts";
import type { Kernel } from "../../kernel/index.ts";
import type { GeometryRepository } from "./geometry.repository.ts";
import { buildPairLineage, type LineageParams, type OriginKind, type SplitKind, splitKindOf } from "./lineage-build.ts";
import type { EdgeColumns, EdgeRow, KindRow, LineageRepository } from "./lineage.repository.ts";
import type { MatrixCache } from "./matrix-cache.ts";

export const DEFAULT_LINEAGE: LineageParams = { threshold: 0.5, parentsPerChild: 4 };

export interface LineageBuildSummary {
  familyId: string;
  saes: { id: string; dSae: number }[];
  pairs: { parent: string; child: string; edges: number; seconds: number }[];
  params: LineageParams;
  seconds: number;
}

export interface LineageLink {
  saeId: string;
  index: number;
  cosine: number;
  /** Share of the child's top examples also among the parent's (null without examples). */
  coactivation: number | null;
}

export class LineageService {
  constructor(
    private readonly repo: LineageRepository,
    private readonly geometry: GeometryRepository,
    private readonly cache: MatrixCache,
    private readonly kernel: () => Promise<Kernel>,
  ) {}

  async build(familyId: string, params: Partial<LineageParams> = {}, progress?: (line: string) => void): Promise<LineageBuildSummary> {
    const p: LineageParams = { ...DEFAULT_LINEAGE, ...params };
    if (!(p.threshold > 0 && p.threshold <= 1)) throw badInput(`threshold must be in (0, 1], got ${p.threshold}`);
    if (!(Number.isInteger(p.parentsPerChild) && p.parentsPerChild >= 1 && p.parentsPerChild <= 32)) {
      throw badInput(`parents per child must be an integer in 1..32, got ${p.parentsPerChild}`);
    }
    const started = performance.now();
    if (!(await this.repo.family(familyId))) throw notFound(`family ${JSON.stringify(familyId)} not found`);
    const ids = await this.repo.familySaeIds(familyId);
    const saes = await this.geometry.saes(ids);
    const byId = new Map(saes.map((s) => [s.id, s]));
    const ordered = ids.map((id) => byId.get(id)).filter((s) => s !== undefined);
    if (new Set(ordered.map((s) => s.dIn)).size > 1) throw badInput(`family ${familyId} mixes SAEs of different d_in; lineage needs one space`);
    const kernel = await this.kernel();
    const edges: EdgeColumns[] = [];
    const pairs: LineageBuildSummary["pairs"] = [];
    // Kinds per matrix row (features with a decoder); the others stay unclassified (NULL).
    const matrices = [];
    for (const s of ordered) matrices.push(await this.cache.get(s));
    const split: SplitKind[][] = matrices.map((m) => new Array<SplitKind>(m.rows).fill("LARGEST"));
    const origin: OriginKind[][] = matrices.map((m) => new Array<OriginKind>(m.rows).fill("SMALLEST"));
    for (let i = 0; i + 1 < matrices.length; i++) {
      const t0 = performance.now();
      const [small, large] = [matrices[i], matrices[i + 1]];
      const pair = await buildPairLineage(kernel, small, large, p);
      edges.push(pair.edges);
      for (let r = 0; r < small.rows; r++) split[i][r] = splitKindOf(pair.childCount[r]);
      for (let r = 0; r < large.rows; r++) origin[i + 1][r] = pair.inherited[r] ? "INHERITED" : "NOVEL";
      const seconds = (performance.now() - t0) / 1000;
      pairs.push({ parent: small.saeId, child: large.saeId, edges: pair.edges.parentIdx.length, seconds });
      progress?.(`${small.saeId} (${small.rows}) -> ${large.saeId} (${large.rows}): ${pair.edges.parentIdx.length} edges in ${seconds.toFixed(1)} s`);
    }
    const kinds = matrices.map((m, i) => ({ saeId: m.saeId, idx: m.index, split: split[i], origin: origin[i] }));
    await this.repo.replaceFamilyLineage(familyId, ordered.map((s) => s.id), edges, kinds, { ...p, signal: "decoder-cosine", secondSignal: "coactivation (shared top examples)" });
    return {
      familyId,
      saes: ordered.map((s) => ({ id: s.id, dSae: s.dSae })),
      pairs,
      params: p,
      seconds: (performance.now() - started) / 1000,
    };
  }

  /** After an SAE's examples changed: recompute co-activation on its family's stored edges (edges stay). */
  async refreshCoactivation(familyId: string, saeId: string): Promise<number> {
    const state = await this.repo.family(familyId);
    if (!state?.lineageBuiltAt) return 0;
    return this.repo.refreshCoactivation(familyId, saeId);
  }

  /** Builds the family's lineage unless a current build is stored; null when it was kept. */
  async ensureBuilt(familyId: string, progress?: (line: string) => void): Promise<LineageBuildSummary | null> {
    const state = await this.repo.family(familyId);
    if (!state) throw notFound(`family ${JSON.stringify(familyId)} not found`);
    if (state.lineageBuiltAt && !state.lineageStale) return null;
    return this.build(familyId, {}, progress);
  }

  /** Parents (next smaller SAE) of each key, best first. */
  async parentsMany(keys: readonly FeatureKey[]): Promise<LineageLink[][]> {
    return group(keys, await this.repo.parentEdges(keys), (e) => `${e.childSaeId}:${e.childIdx}`, (e) => ({
      saeId: e.parentSaeId,
      index: e.parentIdx,
      cosine: e.cosine,
      coactivation: e.coactivation,
    }));
  }

  /** Children (next larger SAE) of each key, best first. */
  async childrenMany(keys: readonly FeatureKey[]): Promise<LineageLink[][]> {
    return group(keys, await this.repo.childEdges(keys), (e) => `${e.parentSaeId}:${e.parentIdx}`, (e) => ({
      saeId: e.childSaeId,
      index: e.childIdx,
      cosine: e.cosine,
      coactivation: e.coactivation,
    }));
  }

  /** Stored kinds per key, without the tree's build-state check (null when the feature is not visible). */
  async storedKindsMany(keys: readonly FeatureKey[]): Promise<Array<StoredKinds | null>> {
    const rows = new Map((await this.repo.kinds(keys)).map((r) => [featureKey(r), r]));
    return keys.map((k) => {
      const r = rows.get(featureKey(k));
      return r ? storedKinds(r) : null;
    });
  }

  /** Node kinds per key (null when the feature is not visible). */
  async kindsMany(keys: readonly FeatureKey[]): Promise<Array<{ split: SplitKind; origin: OriginKind } | null>> {
    const rows = new Map((await this.repo.kinds(keys)).map((r) => [featureKey(r), r]));
    return keys.map((k) => {
      const r = rows.get(featureKey(k));
      return r ? nodeKinds(r) : null;
    });
  }
}

/** Feature.splitKind / originKind: the stored kinds as they are, null where none is known. */
export interface StoredKinds {
  split: SplitKind | null;
  origin: OriginKind | null;
}

function storedKinds(r: KindRow): StoredKinds {
  if (r.familyId === null) return { split: "LARGEST", origin: "SMALLEST" };
  // Not built yet, or a feature the build could not place (no decoder): nothing to report.
  if (r.lineageBuiltAt === null) return { split: null, origin: null };
  return { split: (r.splitKind as SplitKind | null) ?? null, origin: (r.originKind as OriginKind | null) ?? null };
}

function nodeKinds(r: KindRow): { split: SplitKind; origin: OriginKind } {
  // An SAE outside any family is both the largest and the smallest of its ladder.
  if (r.familyId === null) return { split: "LARGEST", origin: "SMALLEST" };
  if (r.lineageBuiltAt === null) {
    throw new AppError(
      ErrorCode.CONFLICT,
      `the split lineage of family ${r.familyId} has not been built yet: run \`monoscope lineage build --family ${r.familyId}\``,
    );
  }
  // Features without a decoder direction cannot be placed: they neither continue nor descend.
  return { split: (r.splitKind as SplitKind | null) ?? "VANISHED", origin: (r.originKind as OriginKind | null) ?? "NOVEL" };
}

function group(
  keys: readonly FeatureKey[],
  edges: EdgeRow[],
  keyOf: (e: EdgeRow) => string,
  link: (e: EdgeRow) => LineageLink,
): LineageLink[][] {
  const m = new Map<string, LineageLink[]>();
  for (const e of edges) {
    const k = keyOf(e);
    const list = m.get(k) ?? [];
    list.push(link(e));
    m.set(k, list);
  }
  return keys.map((k) => m.get(featureKey(k)) ?? []);
}
