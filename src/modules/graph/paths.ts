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
  const budget = options.searchBudget ?? MAX_SEARCH_STATES;
  let found: Candidate[] = [];
  // From one start the bound levels are per query; a cutoff c keeps them small (see FROM_CUTOFFS).
  const floor = from < 0 ? 0 : shortPathFloor(index, from, to, k, maxLength) * (1 - 1e-9);
  const cutoffs = from < 0 ? [0] : floor > 0 ? [floor, 0] : FROM_CUTOFFS;
  for (const cutoff of cutoffs) {
    const { bound, reach } = boundTables(index, isStart, from, maxLength, cutoff);
    found = search(index, to, k, maxLength, isStart, bound, reach, budget);
    if (cutoff === 0 || (found.length === k && found[k - 1]!.abs >= cutoff)) break;
  }
  return found.map((c) => ({ nodeIds: c.nodes.map((i) => index.ids[i]!), weight: c.weight }));
}

/**
 * Builds the bound levels for paths from the EMBEDDING nodes up to maxLength ahead of the first
 * query (O(maxLength · links), a few hundred ms at a million links), so no query pays for them.
 */
export function preparePathBounds(index: GraphIndex, maxLength: number): void {
  boundTables(index, startSet(index, -1), -1, Math.min(maxLength, MAX_PATH_LENGTH));
}

/**
 * Every |A| is at most 1, so a path's |weight| is at most the |product| of any of its prefixes from
 * the start. Bound levels that drop walks whose product from `from` falls below c therefore still
 * carry every path of |weight| ≥ c, and a search on them is exact whenever its k-th result reaches c.
 * The first cutoff is shortPathFloor's (a k-th best already in hand); without one these fixed ones
 * are tried in turn. Whatever fails the check is retried lower, and the last cutoff is 0 (nothing dropped).
 */
const FROM_CUTOFFS = [1e-2, 1e-4, 1e-7, 0];

/**
 * A lower bound on the k-th best |weight| from `from` to `to`: the k-th largest over simple paths of
 * at most 3 links (one link per node pair, the strongest), 0 when there are fewer than k of them.
 * About (out-degree)² steps: far below one pass over the links.
 */
function shortPathFloor(index: GraphIndex, from: number, to: number, k: number, maxLength: number): number {
  const { outStart, outTarget, outA, inStart, inSource, inA } = index;
  const intoTo = new Map<number, number>();
  for (let e = inStart[to]!, end = inStart[to + 1]!; e < end; e++) {
    const a = Math.abs(inA[e]!);
    if (a > (intoTo.get(inSource[e]!) ?? -1)) intoTo.set(inSource[e]!, a);
  }
  const found: number[] = [];
  const direct = intoTo.get(from);
  if (direct !== undefined) found.push(direct);
  for (let e = outStart[from]!, end = outStart[from + 1]!; maxLength >= 2 && e < end; e++) {
    const v = outTarget[e]!;
    if (v === to || v === from) continue;
    const av = Math.abs(outA[e]!);
    const last = intoTo.get(v);
    if (last !== undefined) found.push(av * last);
    for (let f = outStart[v]!, fend = outStart[v + 1]!; maxLength >= 3 && f < fend; f++) {
      const w = outTarget[f]!;
      const lastW = w === to || w === from || w === v ? undefined : intoTo.get(w);
      if (lastW !== undefined) found.push(av * Math.abs(outA[f]!) * lastW);
    }
  }
  if (found.length < k) return 0;
  found.sort((x, y) => y - x);
  return found[k - 1]!;
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
  /** M of the last level computed and its support (start, or reached by a walk). */
  best: Float64Array;
  support: Uint8Array;
  /** The nodes whose M or support changed at the last level: only they can raise the next one. */
  changed: number[];
}

function boundTables(index: GraphIndex, isStart: Uint8Array, from: number, maxLength: number, cutoff = 0): BoundLevels {
  const memoKey = "paths:embedding-bounds";
  let levels = from < 0 ? (index.memo.get(memoKey) as BoundLevels | undefined) : undefined;
  if (!levels) {
    const best = new Float64Array(index.n);
    const support = new Uint8Array(index.n);
    const changed: number[] = [];
    for (let u = 0; u < index.n; u++) if (isStart[u]) {
      best[u] = 1;
      support[u] = 1;
      changed.push(u);
    }
    levels = { bound: [new Float64Array(index.n)], reach: [new Uint8Array(index.n)], best, support, changed };
    if (from < 0) index.memo.set(memoKey, levels);
  }
  while (levels.bound.length <= maxLength) extendLevel(index, levels, cutoff);
  return levels;
}

/**
 * Level r from level r-1 by pushing only from the nodes that changed: M[r-1] ≥ M[r-2] everywhere, so
 * X[r][v] = max(X[r-1][v], |A(u→v)| · M[r-1][u] over the u that changed). Longer walks rarely beat
 * shorter ones (every |A| ≤ 1), so the pushed set shrinks fast; with a cutoff, walks whose product
 * falls below it are dropped.
 */
function extendLevel(index: GraphIndex, levels: BoundLevels, cutoff: number): void {
  const { outStart, outTarget, outA } = index;
  const x = levels.bound[levels.bound.length - 1]!.slice();
  const reached = levels.reach[levels.reach.length - 1]!.slice();
  const { best, support } = levels;
  const touched: number[] = [];
  for (const u of levels.changed) {
    const m = best[u]!;
    for (let e = outStart[u]!, end = outStart[u + 1]!; e < end; e++) {
      const c = Math.abs(outA[e]!) * m;
      if (c * BOUND_SLACK < cutoff) continue;
      const v = outTarget[e]!;
      if (reached[v] === 0) {
        reached[v] = 1;
        touched.push(v);
      } else if (c > x[v]!) touched.push(v);
      if (c > x[v]!) x[v] = c;
    }
  }
  const changed: number[] = [];
  for (const v of touched) {
    const grew = x[v]! > best[v]!;
    if (support[v] === 0 || grew) {
      changed.push(v);
      support[v] = 1;
      if (grew) best[v] = x[v]!;
    }
  }
  levels.bound.push(x);
  levels.reach.push(reached);
  levels.changed = [...new Set(changed)];
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
