// graphMediators: which FEATURE nodes carry the most effect into a target through other features.
//
// indirectEffect(m) = Σ over paths m → x1 → … → target of at least 2 links whose inner nodes x_i are
// all FEATURE nodes (and not the target), of the product of A along the path, signs kept.
// directFromPrompt(m) = Σ|w| of links from EMBEDDING nodes into m ÷ Σ|w| of all links into m (0 when m
// has no in-links of non-zero weight). Ranked by |indirectEffect|, largest first, equal values by node
// id in JavaScript string order.
//
// With G[x] = Σ over feature-only paths x → … → target of the product of A (G[target] = 1),
// G[x] = Σ over links x→y with y = target or y a FEATURE of A(x→y) · G[y], and
// indirectEffect(m) = Σ over links m→y with y a FEATURE other than the target of A(m→y) · G[y]:
// one pass in reverse topological order of the feature subgraph that reaches the target, O(links).
// On a cyclic subgraph that sum runs over infinitely many walks and over simple paths it is #P-hard,
// so a cycle among the feature nodes that reach the target is refused (BAD_USER_INPUT naming a node
// on it); cycles elsewhere do not touch the answer and are allowed.
import { badInput } from "../../errors.ts";
import { checkK, DEFAULT_LIMITS, type RequestLimits } from "../../shared/limits.ts";
import { asIndex, compareIds, KIND_FEATURE, nodeNumber, type GraphIndex, type GraphShape } from "./graph-index.ts";

export interface GraphMediatorsOptions {
  target: string;
  k: number;
}

export interface GraphMediatorResult {
  nodeId: string;
  indirectEffect: number;
  directFromPrompt: number;
}

export function graphMediators(graph: GraphShape | GraphIndex, options: GraphMediatorsOptions, limits: RequestLimits = DEFAULT_LIMITS): GraphMediatorResult[] {
  const index = asIndex(graph);
  const k = checkK(limits, options.k);
  const target = nodeNumber(index, options.target, "target");
  const effect = indirectEffects(index, target);
  const { n, ids, kind, inAbs, inAbsFromEmbedding } = index;
  const order: number[] = [];
  for (let m = 0; m < n; m++) if (kind[m] === KIND_FEATURE && m !== target) order.push(m);
  order.sort((a, b) => Math.abs(effect[b]!) - Math.abs(effect[a]!) || compareIds(ids[a]!, ids[b]!));
  return order.slice(0, k).map((m) => ({
    nodeId: ids[m]!,
    indirectEffect: effect[m]!,
    directFromPrompt: inAbs[m]! === 0 ? 0 : inAbsFromEmbedding[m]! / inAbs[m]!,
  }));
}

/** indirectEffect of every node (0 for non-features and for features that cannot reach the target). */
function indirectEffects(index: GraphIndex, target: number): Float64Array {
  const { n, kind, inStart, inSource, outStart, outTarget, outA } = index;
  // The inner-node set: FEATURE nodes other than the target that reach it through such nodes only,
  // found backwards from the target.
  const inner = new Uint8Array(n);
  const stack: number[] = [target];
  while (stack.length > 0) {
    const y = stack.pop()!;
    for (let e = inStart[y]!, end = inStart[y + 1]!; e < end; e++) {
      const x = inSource[e]!;
      if (x === target || inner[x] || kind[x] !== KIND_FEATURE) continue;
      inner[x] = 1;
      stack.push(x);
    }
  }
  const order = topologicalOrder(index, inner, target);
  // G over inner nodes, in an order where every inner successor comes first.
  const g = new Float64Array(n);
  g[target] = 1;
  for (let i = order.length - 1; i >= 0; i--) {
    const x = order[i]!;
    let sum = 0;
    for (let e = outStart[x]!, end = outStart[x + 1]!; e < end; e++) {
      const y = outTarget[e]!;
      if (y === target || inner[y]) sum += outA[e]! * g[y]!;
    }
    g[x] = sum;
  }
  const effect = new Float64Array(n);
  for (let m = 0; m < n; m++) {
    if (kind[m] !== KIND_FEATURE || m === target) continue;
    let sum = 0;
    for (let e = outStart[m]!, end = outStart[m + 1]!; e < end; e++) {
      const y = outTarget[e]!;
      if (inner[y]) sum += outA[e]! * g[y]!;
    }
    effect[m] = sum;
  }
  return effect;
}

/** Kahn's algorithm on the subgraph induced by `inner`; refuses a cycle. */
function topologicalOrder(index: GraphIndex, inner: Uint8Array, target: number): number[] {
  const { n, inStart, inSource, outStart, outTarget, ids } = index;
  const indegree = new Int32Array(n);
  const order: number[] = [];
  let members = 0;
  for (let y = 0; y < n; y++) {
    if (!inner[y]) continue;
    members++;
    for (let e = inStart[y]!, end = inStart[y + 1]!; e < end; e++) if (inner[inSource[e]!]) indegree[y]++;
    if (indegree[y] === 0) order.push(y);
  }
  for (let head = 0; head < order.length; head++) {
    const x = order[head]!;
    for (let e = outStart[x]!, end = outStart[x + 1]!; e < end; e++) {
      const y = outTarget[e]!;
      if (inner[y] && --indegree[y] === 0) order.push(y);
    }
  }
  if (order.length < members) {
    // Every node left over has a left-over predecessor; walking back `members` steps lands on a cycle.
    let onCycle = 0;
    while (!(inner[onCycle] && indegree[onCycle]! > 0)) onCycle++;
    for (let step = 0; step < members; step++) {
      for (let e = inStart[onCycle]!, end = inStart[onCycle + 1]!; e < end; e++) {
        const x = inSource[e]!;
        if (inner[x] && indegree[x]! > 0) {
          onCycle = x;
          break;
        }
      }
    }
    throw badInput(
      `target: the feature nodes that reach ${JSON.stringify(ids[target])} form a cycle (through ${JSON.stringify(ids[onCycle])}); indirect effects are defined on acyclic graphs only`,
      { arg: "target" },
    );
  }
  return order;
}
