/**
 * The in-memory attribution graph that the path and mediator algorithms run on.
 *
 * The service builds one MemGraph per stored graph from its rows and caches it (LRU by slug,
 * dropped on replace/delete), so a MemGraph is immutable once built: algorithms may memoise
 * derived indexes (adjacency, normalisers) in a WeakMap keyed by the MemGraph object.
 */

export type GraphNodeKind = 'FEATURE' | 'ERROR' | 'EMBEDDING' | 'LOGIT';

export interface MemNode {
  /** The graph file's node_id, e.g. "12_3456_7", "E_651_0", "27_236770_3". */
  nodeId: string;
  kind: GraphNodeKind;
  layer: string;
  ctxIdx: number;
  /** circuit-tracer's cumulative influence (smaller = more important); null for embeddings/logits. */
  influence: number | null;
  activation: number | null;
}

/** A signed link between two nodes, given as positions in MemGraph.nodes. */
export interface MemLink {
  source: number;
  target: number;
  weight: number;
}

export interface MemGraph {
  slug: string;
  /** In the file's order (links refer to these positions). */
  nodes: readonly MemNode[];
  links: readonly MemLink[];
  /** nodeId → position in nodes. */
  index: ReadonlyMap<string, number>;
}

/**
 * The service has checked that `to` and `from` are node ids of the graph, 1 ≤ k ≤ limit and
 * 1 ≤ maxLength ≤ limit before it calls graphPaths.
 */
export interface GraphPathsOptions {
  to: string;
  from?: string | null;
  k: number;
  maxLength: number;
}

/** A path as node positions from its start to `to`; weight = product of normalised weights A. */
export interface MemPath {
  nodes: number[];
  weight: number;
}

export interface GraphMediatorsOptions {
  target: string;
  k: number;
}

export interface MemMediator {
  /** Position in MemGraph.nodes of the FEATURE node. */
  node: number;
  indirectEffect: number;
  directFromPrompt: number;
}
