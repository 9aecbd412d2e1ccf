// Rules for attribution graphs: ingest (checked file → rows, idempotent, --replace), export
// (rows → file), pruned views, and the path and mediator searches. The searches run on an
// in-memory graph built once per stored graph and cached (LRU), keyed by the graph row's id: a
// replace gives the graph a new id, so no process serves a replaced graph from its cache.
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { badInput, conflict, fileError, notFound } from "../../errors.ts";
import type { FeatureKey } from "../../shared/feature-key.ts";
import { checkK, checkPageSize, DEFAULT_LIMITS, type RequestLimits } from "../../shared/limits.ts";
import { compareGraphs, type ComparisonOrder, type GraphComparisonResult } from "./compare.ts";
import { buildGraphFile } from "./graph-export.ts";
import { assertSchema, parseGraphFile } from "./graph-file.ts";
import { GraphCache, type LoadedGraph } from "./graph-cache.ts";
import type { AppearanceRow, GraphRecord, GraphRepository } from "./graph.repository.ts";
import type { MemGraph } from "./graph.types.ts";

export type { AppearanceRow, GraphRecord } from "./graph.repository.ts";
export type { LoadedGraph } from "./graph-cache.ts";

/** Which SAE a graph layer's features belong to: explicit per-layer ids first, then the template. */
export interface LayerSaeMapping {
  byLayer?: ReadonlyMap<string, string>;
  /** An SAE id with "{layer}" in it, e.g. "gemma-3-1b/{layer}-transcoder-16k". */
  template?: string | null;
}

export interface GraphIngestOptions {
  /** How the file is named in errors (and summaries). */
  file: string;
  mapping?: LayerSaeMapping;
  replace?: boolean;
}

export interface GraphIngestSummary {
  slug: string;
  modelId: string;
  outcome: "created" | "replaced" | "skipped";
  nodes: number;
  links: number;
  /** Feature nodes whose layer maps to an SAE, and how many of them are stored features now. */
  mappedNodes: number;
  linkedNodes: number;
  seconds: number;
}

/** The searches, supplied by the module root (paths.ts, mediators.ts). */
export interface GraphAlgorithms {
  prepare(g: MemGraph): unknown;
  paths(prepared: unknown, o: { to: string; from?: string | null; k: number; maxLength: number }, limits: RequestLimits): Array<{ nodeIds: string[]; weight: number }>;
  mediators(prepared: unknown, o: { target: string; k: number }, limits: RequestLimits): Array<{ nodeId: string; indirectEffect: number; directFromPrompt: number }>;
}

/** A pruned view: positions of the kept nodes and of the kept links (file order). */
export interface GraphView {
  graph: LoadedGraph;
  nodes: number[];
  links: number[];
}

/** A graph as a GraphQL parent: the row now, the pruned view when a field asks for it (once). */
export interface GraphParent {
  record: GraphRecord;
  loaded(): Promise<LoadedGraph>;
  view(): Promise<GraphView>;
}

export interface GraphPathRecord {
  graph: LoadedGraph;
  nodes: number[];
  weight: number;
}

/** Two loaded graphs and their comparison, computed once per order asked for. */
export interface GraphComparisonRecord {
  a: LoadedGraph;
  b: LoadedGraph;
  result(order: ComparisonOrder): GraphComparisonResult;
}

export interface GraphMediatorRecord {
  graph: LoadedGraph;
  node: number;
  indirectEffect: number;
  directFromPrompt: number;
}

export function parseLayerMapping(pairs: readonly string[], template: string | null | undefined): LayerSaeMapping {
  const byLayer = new Map<string, string>();
  for (const p of pairs) {
    const at = p.indexOf("=");
    const layer = at > 0 ? p.slice(0, at).trim() : "";
    const sae = at > 0 ? p.slice(at + 1).trim() : "";
    if (!layer || !sae) throw badInput(`--sae-for-layer: ${JSON.stringify(p)} is not LAYER=SAE_ID (e.g. 12=gemma-3-1b/12-transcoder)`, { arg: "--sae-for-layer" });
    byLayer.set(layer, sae);
  }
  if (template !== null && template !== undefined && !template.includes("{layer}")) {
    throw badInput(`--sae-template: ${JSON.stringify(template)} has no {layer} placeholder`, { arg: "--sae-template" });
  }
  return { byLayer, template: template ?? null };
}

function saeFor(m: LayerSaeMapping | undefined, layer: string): string | null {
  return m?.byLayer?.get(layer) ?? (m?.template ? m.template.replaceAll("{layer}", layer) : null);
}

function checkPruning(nodeThreshold?: number | null, minEdgeWeight?: number | null): void {
  for (const [arg, v] of [["nodeThreshold", nodeThreshold], ["minEdgeWeight", minEdgeWeight]] as const) {
    if (v !== null && v !== undefined && !Number.isFinite(v)) throw badInput(`${arg} must be a finite number, got ${v}`, { arg });
  }
}

export class GraphService {
  private readonly cache: GraphCache;

  constructor(
    private readonly repo: GraphRepository,
    private readonly algorithms: GraphAlgorithms | null,
    private readonly limits: RequestLimits = DEFAULT_LIMITS,
  ) {
    this.cache = new GraphCache(repo, (g) => this.algorithms?.prepare(g) ?? null);
  }

  /** Reads and ingests a file; `o.file` is how errors name it (the path as the user gave it). */
  async ingestFile(path: string, o: GraphIngestOptions): Promise<GraphIngestSummary> {
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (e) {
      throw fileError(o.file, "(file)", `cannot be read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    return this.ingest(text, o);
  }

  async ingest(text: string, o: GraphIngestOptions): Promise<GraphIngestSummary> {
    const t0 = performance.now();
    const g = parseGraphFile(o.file, text);
    const nodes = g.nodes.map((n) => {
      const saeId = n.kind === "FEATURE" && n.featureIdx !== null ? saeFor(o.mapping, n.layer) : null;
      return { ...n, saeId };
    });
    const mappedNodes = nodes.filter((n) => n.saeId !== null).length;
    const mappingKey = JSON.stringify({ byLayer: [...(o.mapping?.byLayer ?? new Map()).entries()].sort(), template: o.mapping?.template ?? null });
    const contentHash = createHash("sha256").update(text).update("\u0000").update(mappingKey).digest("hex");
    const existing = await this.repo.bySlug(g.slug);
    const summary = (outcome: GraphIngestSummary["outcome"], linkedNodes: number): GraphIngestSummary => ({
      slug: g.slug,
      modelId: g.modelId,
      outcome,
      nodes: g.nodes.length,
      links: g.links.length,
      mappedNodes,
      linkedNodes,
      seconds: (performance.now() - t0) / 1000,
    });
    if (existing && existing.contentHash === contentHash && !o.replace) return summary("skipped", await this.linkedCount(existing));
    if (existing && !o.replace) {
      throw conflict(`${o.file}: metadata.slug: a different graph ${JSON.stringify(g.slug)} is already stored; pass --replace to replace it`);
    }
    const row = await this.repo.replace({ ...g, nodes, contentHash });
    if (existing) this.cache.forget(existing.id);
    return summary(existing ? "replaced" : "created", await this.linkedCount(row));
  }

  private linkedCount(g: GraphRecord): Promise<number> {
    return this.repo.linkedCount(g.id);
  }

  /** The file rebuilt from the stored rows; checked against the published schema before it is returned. */
  async exportFile(slug: string): Promise<Record<string, unknown>> {
    const rows = await this.repo.exportRows(slug);
    if (!rows) throw notFound(`no graph with slug ${JSON.stringify(slug)}`);
    const file = buildGraphFile(rows);
    assertSchema(`export of ${slug}`, file);
    return file;
  }

  async delete(slug: string): Promise<boolean> {
    const g = await this.repo.bySlug(slug);
    if (!g) return false;
    this.cache.forget(g.id);
    return this.repo.delete(slug);
  }

  list(modelId: string | null | undefined, first: number): Promise<GraphRecord[]> {
    return this.repo.list(modelId ?? null, checkPageSize(this.limits, first));
  }

  async bySlugs(slugs: readonly string[]): Promise<Map<string, GraphRecord>> {
    return new Map((await this.repo.bySlugs(slugs)).map((g) => [g.slug, g]));
  }

  /** The cached in-memory graph of a stored graph, or null when there is no such slug. */
  async load(slug: string): Promise<LoadedGraph | null> {
    const g = await this.repo.bySlug(slug);
    return g ? this.cache.load(g) : null;
  }

  loadRecord(g: GraphRecord): Promise<LoadedGraph> {
    return this.cache.load(g);
  }

  /** A lazily loaded, pruned graph (the arguments are checked now, the rows read on first view()). */
  parent(record: GraphRecord, nodeThreshold?: number | null, minEdgeWeight?: number | null): GraphParent {
    checkPruning(nodeThreshold, minEdgeWeight);
    let view: Promise<GraphView> | null = null;
    const loaded = () => this.cache.load(record);
    return { record, loaded, view: () => (view ??= loaded().then((g) => this.view(g, nodeThreshold, minEdgeWeight))) };
  }

  private async required(slug: string): Promise<LoadedGraph> {
    const g = await this.load(slug);
    if (!g) throw notFound(`no graph with slug ${JSON.stringify(slug)}`);
    return g;
  }

  /**
   * nodeThreshold t keeps FEATURE and ERROR nodes with influence ≤ t (EMBEDDING and LOGIT nodes
   * always); minEdgeWeight w keeps links with |weight| ≥ w between kept nodes.
   */
  view(g: LoadedGraph, nodeThreshold?: number | null, minEdgeWeight?: number | null): GraphView {
    checkPruning(nodeThreshold, minEdgeWeight);
    const { nodes, links } = g.mem;
    const keep = new Uint8Array(nodes.length);
    const kept: number[] = [];
    for (let i = 0; i < nodes.length; i++) {
      const n = nodes[i]!;
      const always = n.kind === "EMBEDDING" || n.kind === "LOGIT";
      if (nodeThreshold === null || nodeThreshold === undefined || always || (n.influence !== null && n.influence <= nodeThreshold)) {
        keep[i] = 1;
        kept.push(i);
      }
    }
    const w = minEdgeWeight ?? null;
    const keptLinks: number[] = [];
    for (let i = 0; i < links.length; i++) {
      const l = links[i]!;
      if (keep[l.source] && keep[l.target] && (w === null || Math.abs(l.weight) >= w)) keptLinks.push(i);
    }
    return { graph: g, nodes: kept, links: keptLinks };
  }

  async paths(slug: string, o: { to: string; from?: string | null; k: number; maxLength: number }): Promise<GraphPathRecord[]> {
    checkK(this.limits, o.k);
    const g = await this.required(slug);
    const found = this.algorithmsOrFail().paths(g.prepared, o, this.limits);
    return found.map((p) => ({ graph: g, nodes: p.nodeIds.map((id) => g.mem.index.get(id)!), weight: p.weight }));
  }

  async mediators(slug: string, o: { target: string; k: number }): Promise<GraphMediatorRecord[]> {
    checkK(this.limits, o.k);
    const g = await this.required(slug);
    const found = this.algorithmsOrFail().mediators(g.prepared, o, this.limits);
    return found.map((m) => ({ graph: g, node: g.mem.index.get(m.nodeId)!, indirectEffect: m.indirectEffect, directFromPrompt: m.directFromPrompt }));
  }

  async compare(aSlug: string, bSlug: string): Promise<GraphComparisonRecord> {
    const [a, b] = await Promise.all([this.required(aSlug), this.required(bSlug)]);
    if (a.record.modelId !== b.record.modelId) {
      throw badInput(`graphs ${JSON.stringify(aSlug)} and ${JSON.stringify(bSlug)} are of different models (${a.record.modelId}, ${b.record.modelId}): their features cannot be matched`, { arg: "b" });
    }
    const memo = new Map<ComparisonOrder, GraphComparisonResult>();
    return {
      a,
      b,
      result: (order) => {
        let r = memo.get(order);
        if (!r) memo.set(order, (r = compareGraphs(a, b, order)));
        return r;
      },
    };
  }

  private algorithmsOrFail(): GraphAlgorithms {
    if (!this.algorithms) throw new Error("invariant failed: the graph module was built without its search algorithms");
    return this.algorithms;
  }

  /** Graph appearances of stored features, at most `first` per feature. */
  async appearancesOf(keys: readonly FeatureKey[], first: number): Promise<AppearanceRow[]> {
    return this.repo.appearances(keys, checkPageSize(this.limits, first));
  }
}
