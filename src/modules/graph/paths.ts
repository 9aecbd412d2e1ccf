// graphPaths: the k strongest simple paths into one node of an attribution graph.
//
// A path is a sequence of distinct nodes n0 → n1 → … → to joined by stored links, with 1..maxLength
// links, starting at `from` when given and otherwise at any EMBEDDING node. Its weight is the product
// of the normalised weights A along it, signs kept, accumulated from the `to` end:
// A(n0→n1) · (A(n1→n2) · ( … · A(n_{l-1}→to))). Paths rank by |weight|, largest first; equal |weight|
// ranks by the node-id sequence read from n0 to `to`, compared id by id in JavaScript string order
// (UTF-16 code units), the smaller sequence first.
//
// The search is best-first backwards from `to` with branch and bound: a partial path v → … → to of
// product P and r links still allowed can complete to at most |P| · X[r][v], where X[r][v] is the
// largest |A| product of any walk of 1..r links ending at v from a start node (walks include the
// non-simple ones, so the bound is admissible). Precomputing X costs O(maxLength · links); the search
// then expands only partial paths whose bound can still reach the current k-th best.
import { badInput } from "../../errors.ts";
import { checkK, DEFAULT_LIMITS, type RequestLimits } from "../../shared/limits.ts";
import { BoundHeap } from "./bound-heap.ts";
import { asIndex, compareIds, KIND_EMBEDDING, nodeNumber, type GraphIndex, type GraphShape } from "./graph-index.ts";

/** The longest path graphPaths accepts (the bound tables grow with it). */
export const MAX_PATH_LENGTH = 16;

export interface GraphPathsOptions {
  to: string;
  from?: string | null;
  k: number;
  maxLength: number;
  /** Partial paths the search may create before it gives up (see MAX_SEARCH_STATES). */
  searchBudget?: number;
}

export interface GraphPathResult {
  /** Node ids from the start node to `to`. */
  nodeIds: string[];
  weight: number;
}

/**
 * The search is exact, so a graph whose k-th best |weight| is shared by a huge number of paths (equal
 * weights everywhere) would make it enumerate them all to apply the tie order. Past this many partial
 * paths (about 70 MB) it refuses the query instead of answering late or wrongly.
 */
export const MAX_SEARCH_STATES = 4_000_000;

// Rounding in the bound's product order may differ from the path's by a few ulps; the slack keeps a
// path that ties the k-th best (bit for bit) from being pruned.
const BOUND_SLACK = 1 + 1e-9;

interface Candidate {
  weight: number;
  abs: number;
  nodes: number[];
}

export function graphPaths(graph: GraphShape | GraphIndex, options: GraphPathsOptions, limits: RequestLimits = DEFAULT_LIMITS): GraphPathResult[] {
  const index = asIndex(graph);
  const k = checkK(limits, options.k);
  const maxLength = options.maxLength;
  if (!Number.isInteger(maxLength) || maxLength < 1 || maxLength > MAX_PATH_LENGTH) {
    throw badInput(`maxLength must be between 1 and ${MAX_PATH_LENGTH}, got ${maxLength}`, { arg: "maxLength", max: MAX_PATH_LENGTH });
  }
  const to = nodeNumber(index, options.to, "to");
  const from = options.from == null ? -1 : nodeNumber(index, options.from, "from");
  const isStart = startSet(index, from);
  const { bound, reach } = boundTables(index, isStart, from, maxLength);
  const found = search(index, to, k, maxLength, isStart, bound, reach, options.searchBudget ?? MAX_SEARCH_STATES);
  return found.map((c) => ({ nodeIds: c.nodes.map((i) => index.ids[i]!), weight: c.weight }));
}

/**
 * Builds the bound levels for paths from the EMBEDDING nodes up to maxLength ahead of the first
 * query (O(maxLength · links), a few hundred ms at a million links), so no query pays for them.
 */
export function preparePathBounds(index: GraphIndex, maxLength: number): void {
  boundTables(index, startSet(index, -1), -1, Math.min(maxLength, MAX_PATH_LENGTH));
}

function startSet(index: GraphIndex, from: number): Uint8Array {
  const isStart = new Uint8Array(index.n);
  if (from >= 0) isStart[from] = 1;
  else for (let i = 0; i < index.n; i++) if (index.kind[i] === KIND_EMBEDDING) isStart[i] = 1;
  return isStart;
}

/**
 * Per remaining length r = 1..maxLength: bound[r][v] = X[r][v] and reach[r][v] = 1 when some walk of
 * 1..r links from a start ends at v. With M[r][u] = max(start(u) ? 1 : 0, X[r][u]) and
 * M[0][u] = start(u) ? 1 : 0: X[r][v] = max over links u→v of |A(u→v)| · M[r-1][u]. Level r does not
 * depend on maxLength, so the levels for the EMBEDDING start set are kept on the index and extended
 * on demand; a `from` query pushes forward from its single start and touches only what it reaches.
 */
interface BoundLevels {
  bound: Float64Array[];
  reach: Uint8Array[];
  /** M and its support for the last level computed (what the next level is pushed from). */
  best: Float64Array;
  active: number[];
}

function boundTables(index: GraphIndex, isStart: Uint8Array, from: number, maxLength: number): BoundLevels {
  const memoKey = "paths:embedding-bounds";
  let levels = from < 0 ? (index.memo.get(memoKey) as BoundLevels | undefined) : undefined;
  if (!levels) {
    const best = new Float64Array(index.n);
    const active: number[] = [];
    for (let u = 0; u < index.n; u++) if (isStart[u]) {
      best[u] = 1;
      active.push(u);
    }
    levels = { bound: [new Float64Array(0)], reach: [new Uint8Array(0)], best, active };
    if (from < 0) index.memo.set(memoKey, levels);
  }
  while (levels.bound.length <= maxLength) extendLevel(index, isStart, levels);
  return levels;
}

function extendLevel(index: GraphIndex, isStart: Uint8Array, levels: BoundLevels): void {
  const { n, outStart, outTarget, outA } = index;
  const x = new Float64Array(n);
  const reached = new Uint8Array(n);
  const prev = levels.best;
  const next: number[] = [];
  for (const u of levels.active) {
    const m = prev[u]!;
    for (let e = outStart[u]!, end = outStart[u + 1]!; e < end; e++) {
      const v = outTarget[e]!;
      const c = Math.abs(outA[e]!) * m;
      if (reached[v] === 0) {
        reached[v] = 1;
        next.push(v);
      }
      if (c > x[v]!) x[v] = c;
    }
  }
  const best = new Float64Array(n);
  for (const v of next) best[v] = x[v]!;
  for (const u of levels.active) if (isStart[u] && best[u]! < 1) best[u] = 1;
  // M[r] ⊇ M[r-1]'s support: starts stay active, and every reached node is.
  const active = new Set(next);
  for (const u of levels.active) if (isStart[u]) active.add(u);
  levels.bound.push(x);
  levels.reach.push(reached);
  levels.best = best;
  levels.active = [...active];
}

function search(index: GraphIndex, to: number, k: number, maxLength: number, isStart: Uint8Array, bound: Float64Array[], reach: Uint8Array[], budget: number): Candidate[] {
  const { inStart, inSource, inA } = index;
  // Partial paths v → … → to, each pointing at the one it extends.
  let stNode = new Int32Array(4096);
  let stParent = new Int32Array(4096);
  let stProd = new Float64Array(4096);
  let stLen = new Uint8Array(4096);
  let states = 0;
  const addState = (node: number, parent: number, prod: number, len: number): number => {
    if (states >= budget) {
      throw badInput(`graphPaths: more than ${budget} partial paths tie for the top ${k} (equal weights); lower maxLength or k, or use from`, { arg: "maxLength" });
    }
    if (states === stNode.length) {
      const grow = <T extends Int32Array | Float64Array | Uint8Array>(a: T, make: (size: number) => T): T => {
        const b = make(a.length * 2);
        b.set(a);
        return b;
      };
      stNode = grow(stNode, (s) => new Int32Array(s));
      stParent = grow(stParent, (s) => new Int32Array(s));
      stProd = grow(stProd, (s) => new Float64Array(s));
      stLen = grow(stLen, (s) => new Uint8Array(s));
    }
    stNode[states] = node;
    stParent[states] = parent;
    stProd[states] = prod;
    stLen[states] = len;
    return states++;
  };
  const pathOf = (first: number, state: number): number[] => {
    const nodes = [first];
    for (let s = state; s >= 0; s = stParent[s]!) nodes.push(stNode[s]!);
    return nodes;
  };

  const results: Candidate[] = [];
  const ids = index.ids;
  const better = (a: Candidate, b: Candidate): boolean => {
    if (a.abs !== b.abs) return a.abs > b.abs;
    const len = Math.min(a.nodes.length, b.nodes.length);
    for (let i = 0; i < len; i++) {
      if (a.nodes[i] !== b.nodes[i]) return compareIds(ids[a.nodes[i]!]!, ids[b.nodes[i]!]!) < 0;
    }
    return a.nodes.length < b.nodes.length;
  };
  const offer = (c: Candidate): void => {
    if (results.length === k && !better(c, results[k - 1]!)) return;
    let i = results.length;
    if (i === k) i--;
    else results.push(c);
    while (i > 0 && better(c, results[i - 1]!)) {
      results[i] = results[i - 1]!;
      i--;
    }
    results[i] = c;
  };
  const threshold = (): number => (results.length === k ? results[k - 1]!.abs : -1);

  const heap = new BoundHeap();
  if (reach[maxLength]![to]) heap.push(bound[maxLength]![to]! * BOUND_SLACK, addState(to, -1, 1, 0));
  // onPath[u] === stamp marks the nodes of the partial path being expanded (simple paths only).
  const onPath = new Uint32Array(index.n);
  let stamp = 0;
  while (heap.size > 0) {
    if (heap.peekKey() < threshold()) break;
    const s = heap.pop();
    const v = stNode[s]!;
    const prod = stProd[s]!;
    const len = stLen[s]! + 1;
    const left = maxLength - len;
    stamp++;
    for (let p = s; p >= 0; p = stParent[p]!) onPath[stNode[p]!] = stamp;
    for (let e = inStart[v]!, end = inStart[v + 1]!; e < end; e++) {
      const u = inSource[e]!;
      if (onPath[u] === stamp) continue;
      const p2 = inA[e]! * prod;
      const abs = Math.abs(p2);
      const thr = threshold();
      if (isStart[u] && abs >= thr) offer({ weight: p2, abs, nodes: pathOf(u, s) });
      if (left >= 1 && reach[left]![u]) {
        const b = abs * bound[left]![u]! * BOUND_SLACK;
        if (b >= threshold()) heap.push(b, addState(u, s, p2, len));
      }
    }
  }
  return results;
}
