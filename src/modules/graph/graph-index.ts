// The compact form the path and mediator searches run on: nodes numbered 0..n-1, links in
// compressed rows by target (in-links) and by source (out-links), each with its normalised weight
// A(s→t) = w(s→t) ÷ Σ|w(u→t)| over every link into t (error nodes included). Building it is O(n + E)
// and it never changes for a stored graph, so callers that answer many queries keep one per graph.
import { badInput } from "../../errors.ts";

export type GraphNodeKindName = "FEATURE" | "ERROR" | "EMBEDDING" | "LOGIT";

/**
 * The least the algorithms need of a graph. Link endpoints are node ids or positions in `nodes`
 * (the stored graph, graph.types.ts's MemGraph, uses positions and satisfies this structurally).
 */
export interface GraphShape {
  readonly nodes: ReadonlyArray<{ readonly nodeId: string; readonly kind: GraphNodeKindName }>;
  readonly links: ReadonlyArray<{ readonly source: string | number; readonly target: string | number; readonly weight: number }>;
}

export const KIND_FEATURE = 0;
export const KIND_ERROR = 1;
export const KIND_EMBEDDING = 2;
export const KIND_LOGIT = 3;
const KIND_CODE: Record<GraphNodeKindName, number> = { FEATURE: KIND_FEATURE, ERROR: KIND_ERROR, EMBEDDING: KIND_EMBEDDING, LOGIT: KIND_LOGIT };

export interface GraphIndex {
  readonly n: number;
  readonly ids: readonly string[];
  readonly byId: ReadonlyMap<string, number>;
  readonly kind: Uint8Array;
  /** In-links of t are positions inStart[t] .. inStart[t+1]-1 of inSource / inA. */
  readonly inStart: Int32Array;
  readonly inSource: Int32Array;
  readonly inA: Float64Array;
  /** Out-links of s are positions outStart[s] .. outStart[s+1]-1 of outTarget / outA. */
  readonly outStart: Int32Array;
  readonly outTarget: Int32Array;
  readonly outA: Float64Array;
  /** Σ|w| of all links into each node, and of those coming from EMBEDDING nodes. */
  readonly inAbs: Float64Array;
  readonly inAbsFromEmbedding: Float64Array;
  /** Tables the searches derive from the index alone and reuse across queries (keyed by their name). */
  readonly memo: Map<string, unknown>;
}

export function isGraphIndex(g: GraphShape | GraphIndex): g is GraphIndex {
  return (g as GraphIndex).inStart instanceof Int32Array;
}

/**
 * Links keep their input order inside each row, and the denominators are summed in link order, so
 * a brute-force enumeration that sums the same way gets bit-identical A values (the tests rely on it).
 * A node whose in-links all weigh 0 gets A = 0 on them (0 ÷ 0 is no evidence of anything).
 */
export function indexGraph(g: GraphShape): GraphIndex {
  const n = g.nodes.length;
  const ids: string[] = new Array<string>(n);
  const byId = new Map<string, number>();
  const kind = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const node = g.nodes[i]!;
    if (byId.has(node.nodeId)) throw badInput(`nodes[${i}].nodeId: duplicate node id ${JSON.stringify(node.nodeId)}`);
    const code = KIND_CODE[node.kind];
    if (code === undefined) throw badInput(`nodes[${i}].kind: unknown node kind ${JSON.stringify(node.kind)}`);
    ids[i] = node.nodeId;
    byId.set(node.nodeId, i);
    kind[i] = code;
  }
  const m = g.links.length;
  const src = new Int32Array(m);
  const dst = new Int32Array(m);
  const w = new Float64Array(m);
  const inAbs = new Float64Array(n);
  const inAbsFromEmbedding = new Float64Array(n);
  const inCount = new Int32Array(n + 1);
  const outCount = new Int32Array(n + 1);
  for (let e = 0; e < m; e++) {
    const link = g.links[e]!;
    const s = endpoint(link.source, byId, n);
    const t = endpoint(link.target, byId, n);
    if (s === undefined) throw badInput(`links[${e}].source: no node ${JSON.stringify(link.source)}`);
    if (t === undefined) throw badInput(`links[${e}].target: no node ${JSON.stringify(link.target)}`);
    if (!Number.isFinite(link.weight)) throw badInput(`links[${e}].weight: must be a finite number, got ${link.weight}`);
    src[e] = s;
    dst[e] = t;
    w[e] = link.weight;
    inAbs[t] += Math.abs(link.weight);
    if (kind[s] === KIND_EMBEDDING) inAbsFromEmbedding[t] += Math.abs(link.weight);
    inCount[t + 1]++;
    outCount[s + 1]++;
  }
  for (let i = 0; i < n; i++) {
    inCount[i + 1] += inCount[i]!;
    outCount[i + 1] += outCount[i]!;
  }
  const inStart = inCount.slice();
  const outStart = outCount.slice();
  const inSource = new Int32Array(m);
  const inA = new Float64Array(m);
  const outTarget = new Int32Array(m);
  const outA = new Float64Array(m);
  for (let e = 0; e < m; e++) {
    const s = src[e]!;
    const t = dst[e]!;
    const denom = inAbs[t]!;
    const a = denom === 0 ? 0 : w[e]! / denom;
    const pi = inCount[t]++;
    inSource[pi] = s;
    inA[pi] = a;
    const po = outCount[s]++;
    outTarget[po] = t;
    outA[po] = a;
  }
  return { n, ids, byId, kind, inStart, inSource, inA, outStart, outTarget, outA, inAbs, inAbsFromEmbedding, memo: new Map() };
}

function endpoint(ref: string | number, byId: ReadonlyMap<string, number>, n: number): number | undefined {
  if (typeof ref === "string") return byId.get(ref);
  return Number.isInteger(ref) && ref >= 0 && ref < n ? ref : undefined;
}

export function asIndex(g: GraphShape | GraphIndex): GraphIndex {
  return isGraphIndex(g) ? g : indexGraph(g);
}

/** The node's number, or BAD_USER_INPUT naming the argument. */
export function nodeNumber(index: GraphIndex, nodeId: string, arg: string): number {
  const i = index.byId.get(nodeId);
  if (i === undefined) throw badInput(`${arg}: the graph has no node ${JSON.stringify(nodeId)}`, { arg });
  return i;
}

/** JavaScript string order (UTF-16 code units), the order every tie in this module is broken by. */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
