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

/**
 * indirectEffect of every node (0 for non-features and for features that cannot reach the target:
 * a feature with a link into an inner node is itself inner). Two passes over the links: a DFS
 * backwards from the target over FEATURE nodes gives the inner set, a cycle among them (a back
 * edge) and, in reverse post-order, an order with every inner successor before its predecessors;
 * then G and the effects in that order.
 */
function indirectEffects(index: GraphIndex, target: number): Float64Array {
  const { n, kind, inStart, inSource, outStart, outTarget, outA, ids } = index;
  // 0 unvisited, 1 on the DFS stack, 2 finished.
  const state = new Uint8Array(n);
  const postOrder: number[] = [];
  const stack: number[] = [];
  const cursor: number[] = [];
  state[target] = 1;
  stack.push(target);
  cursor.push(inStart[target]!);
  while (stack.length > 0) {
    const top = stack.length - 1;
    const y = stack[top]!;
    const e = cursor[top]!;
    if (e === inStart[y + 1]!) {
      stack.pop();
      cursor.pop();
      state[y] = 2;
      if (y !== target) postOrder.push(y);
      continue;
    }
    cursor[top] = e + 1;
    const x = inSource[e]!;
    if (kind[x] !== KIND_FEATURE || x === target || state[x] === 2) continue;
    if (state[x] === 1) {
      throw badInput(
        `target: the feature nodes that reach ${JSON.stringify(ids[target])} form a cycle (through ${JSON.stringify(ids[x])}); indirect effects are defined on acyclic graphs only`,
        { arg: "target" },
      );
    }
    state[x] = 1;
    stack.push(x);
    cursor.push(inStart[x]!);
  }
  // Post-order of the backward DFS finishes a node after everything that feeds it; reversed,
  // every inner successor of x comes before x.
  const g = new Float64Array(n);
  const effect = new Float64Array(n);
  g[target] = 1;
  for (let i = postOrder.length - 1; i >= 0; i--) {
    const x = postOrder[i]!;
    let direct = 0;
    let viaFeatures = 0;
    for (let e = outStart[x]!, end = outStart[x + 1]!; e < end; e++) {
      const y = outTarget[e]!;
      if (y === target) direct += outA[e]!;
      else if (state[y] === 2) viaFeatures += outA[e]! * g[y]!;
    }
    g[x] = direct + viaFeatures;
    effect[x] = viaFeatures;
  }
  return effect;
}
