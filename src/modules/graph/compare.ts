// Two attribution graphs of one model compared feature by feature (compareGraphs). A feature is
// identified by its layer and its index in that layer, not by its node id: the same transcoder
// feature sits at different token positions in graphs of different prompts, and may appear at
// several positions in one graph. Per graph, a feature is represented by its most influential node
// (the smallest circuit-tracer influence; equal or missing influences: the earlier node in file
// order), and its influence is that node's.
import type { LoadedGraph } from "./graph-cache.ts";

export type ComparisonOrder = "IMPORTANCE" | "DIFFERENCE";

export interface FeatureInGraph {
  /** Position of the feature's most influential node. */
  pos: number;
  /** How many nodes (token positions) the feature has in the graph. */
  positions: number;
  influence: number | null;
}

export interface SharedFeature {
  layer: string;
  featureIndex: number;
  a: FeatureInGraph;
  b: FeatureInGraph;
  /** b's influence − a's (negative: more important in b); null when either is missing. */
  delta: number | null;
}

export interface GraphComparisonResult {
  shared: SharedFeature[];
  /** Features of one graph only, as their most influential node's position, most influential first. */
  onlyA: number[];
  onlyB: number[];
}

/** FEATURE nodes grouped by (layer, index), with each group's most influential node. */
function featuresOf(g: LoadedGraph): Map<string, FeatureInGraph & { layer: string; featureIndex: number }> {
  const out = new Map<string, FeatureInGraph & { layer: string; featureIndex: number }>();
  const nodes = g.mem.nodes;
  for (let pos = 0; pos < nodes.length; pos++) {
    const n = nodes[pos]!;
    const idx = g.featureIdx[pos];
    if (n.kind !== "FEATURE" || idx === null || idx === undefined) continue;
    const key = `${n.layer}\u0000${idx}`;
    const seen = out.get(key);
    if (!seen) {
      out.set(key, { layer: n.layer, featureIndex: idx, pos, positions: 1, influence: n.influence });
      continue;
    }
    seen.positions++;
    if (n.influence !== null && (seen.influence === null || n.influence < seen.influence)) {
      seen.pos = pos;
      seen.influence = n.influence;
    }
  }
  return out;
}

/** Smaller first, missing last. */
const byValue = (x: number | null, y: number | null) => (x === null ? (y === null ? 0 : 1) : y === null ? -1 : x - y);

/** Layers compare as numbers where both are numbers ("2" before "10"), else as strings. */
function byLayer(x: string, y: string): number {
  const nx = Number(x), ny = Number(y);
  if (x !== "" && y !== "" && Number.isFinite(nx) && Number.isFinite(ny) && nx !== ny) return nx - ny;
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * IMPORTANCE: by the smaller of the two influences (the feature's importance in either graph),
 * smallest first. DIFFERENCE: by |delta|, largest first. Missing values last; then by layer and
 * feature index.
 */
export function compareGraphs(a: LoadedGraph, b: LoadedGraph, order: ComparisonOrder): GraphComparisonResult {
  const fa = featuresOf(a), fb = featuresOf(b);
  const shared: SharedFeature[] = [];
  const onlyA: Array<FeatureInGraph & { layer: string; featureIndex: number }> = [];
  for (const [key, x] of fa) {
    const y = fb.get(key);
    if (!y) {
      onlyA.push(x);
      continue;
    }
    const delta = x.influence !== null && y.influence !== null ? y.influence - x.influence : null;
    shared.push({ layer: x.layer, featureIndex: x.featureIndex, a: x, b: y, delta });
  }
  const onlyB = [...fb].filter(([key]) => !fa.has(key)).map(([, y]) => y);
  const tie = (p: { layer: string; featureIndex: number }, q: { layer: string; featureIndex: number }) => byLayer(p.layer, q.layer) || p.featureIndex - q.featureIndex;
  const importance = (s: SharedFeature) => (s.a.influence === null ? s.b.influence : s.b.influence === null ? s.a.influence : Math.min(s.a.influence, s.b.influence));
  shared.sort((p, q) =>
    (order === "DIFFERENCE" ? byValue(p.delta === null ? null : -Math.abs(p.delta), q.delta === null ? null : -Math.abs(q.delta)) : byValue(importance(p), importance(q))) || tie(p, q),
  );
  const alone = (xs: Array<FeatureInGraph & { layer: string; featureIndex: number }>) => xs.sort((p, q) => byValue(p.influence, q.influence) || tie(p, q)).map((x) => x.pos);
  return { shared, onlyA: alone(onlyA), onlyB: alone(onlyB) };
}
