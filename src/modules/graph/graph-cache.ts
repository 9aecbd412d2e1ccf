// The in-memory graphs the searches and GraphQL views run on, built from the rows once per stored
// graph and kept in an LRU bounded by entries and by links. Entries are keyed by the graph row's
// id, which a replace changes, so a lookup by slug (one indexed row) always finds the current one.
import type { FeatureKey } from "../../shared/feature-key.ts";
import type { GraphRecord, GraphRepository } from "./graph.repository.ts";
import type { MemGraph, MemLink, MemNode } from "./graph.types.ts";

export interface LoadedGraph {
  record: GraphRecord;
  mem: MemGraph;
  /** What the search algorithms prepared from mem (their index), built once. */
  prepared: unknown;
  tokenProb: ReadonlyArray<number | null>;
  label: ReadonlyArray<string | null>;
  /** The SAE feature each node maps to, where its layer maps to an SAE (stored or not). */
  feature: ReadonlyArray<FeatureKey | null>;
  /** Each FEATURE node's feature index in its layer (from its id), null for other nodes. */
  featureIdx: ReadonlyArray<number | null>;
}

const MAX_ENTRIES = 16;
const MAX_LINKS = 8_000_000;

export class GraphCache {
  private readonly entries = new Map<number, Promise<LoadedGraph>>();
  private readonly sizes = new Map<number, number>();

  constructor(
    private readonly repo: GraphRepository,
    private readonly prepare: (g: MemGraph) => unknown,
  ) {}

  load(record: GraphRecord): Promise<LoadedGraph> {
    const hit = this.entries.get(record.id);
    if (hit) {
      // Map order is insertion order: re-inserting marks it most recently used.
      this.entries.delete(record.id);
      this.entries.set(record.id, hit);
      return hit;
    }
    const p = this.build(record);
    this.entries.set(record.id, p);
    this.sizes.set(record.id, record.linkCount);
    p.catch(() => this.forget(record.id));
    this.evict();
    return p;
  }

  forget(graphId: number): void {
    this.entries.delete(graphId);
    this.sizes.delete(graphId);
  }

  private evict(): void {
    let links = 0;
    for (const n of this.sizes.values()) links += n;
    for (const id of this.entries.keys()) {
      if (this.entries.size <= 1 || (this.entries.size <= MAX_ENTRIES && links <= MAX_LINKS)) break;
      links -= this.sizes.get(id) ?? 0;
      this.forget(id);
    }
  }

  private async build(record: GraphRecord): Promise<LoadedGraph> {
    const [rows, arrays] = await Promise.all([this.repo.liveNodes(record.id), this.repo.linkArrays(record.id)]);
    const nodes: MemNode[] = new Array(rows.length);
    const tokenProb = new Array<number | null>(rows.length);
    const label = new Array<string | null>(rows.length);
    const feature = new Array<FeatureKey | null>(rows.length);
    const featureIdx = new Array<number | null>(rows.length);
    const index = new Map<string, number>();
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      nodes[i] = { nodeId: r.nodeId, kind: r.kind, layer: r.layer, ctxIdx: r.ctxIdx, influence: r.influence, activation: r.activation };
      tokenProb[i] = r.tokenProb;
      label[i] = r.clerp;
      feature[i] = r.saeId !== null && r.featureIdx !== null ? { saeId: r.saeId, index: r.featureIdx } : null;
      featureIdx[i] = r.kind === "FEATURE" ? r.featureIdx : null;
      index.set(r.nodeId, i);
    }
    const { source, target, weight } = arrays;
    const links: MemLink[] = new Array(source.length);
    for (let i = 0; i < source.length; i++) links[i] = { source: source[i]!, target: target[i]!, weight: weight[i]! };
    const mem: MemGraph = { slug: record.slug, nodes, links, index };
    return { record, mem, prepared: this.prepare(mem), tokenProb, label, feature, featureIdx };
  }
}
