// compareGraphs through GraphQL on both backends, checked against the definition written out over
// the files: the real circuit-tracer graph of the demo against a variant of it with two features
// removed, two influences changed, one feature repeated at another token position and one feature
// added; plus a graph of another model (refused) and an unknown slug (NOT_FOUND).
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, expect, it } from "vitest";
import { executeQuery } from "../../../src/graphql/execute.ts";
import { parseLayerMapping } from "../../../src/modules/graph/index.ts";
import { openTestApp, type TestApp } from "../../helpers/backend.ts";
import { cantorPair } from "../../helpers/graph-generator.ts";

let t: TestApp;
const run = (query: string, variables?: Record<string, unknown>) => executeQuery(t.app, query, variables);
const ingest = (g: unknown, file: string) => t.app.services.graph.ingest(JSON.stringify(g), { file, replace: false, mapping: parseLayerMapping([], null) });

type Node = { node_id: string; feature: number | null; layer: string; ctx_idx: number; feature_type: string; influence?: number | null; [k: string]: unknown };
type Graph = { metadata: { slug: string; scan: string; [k: string]: unknown }; nodes: Node[]; links: Array<{ source: string; target: string; weight: number }>; [k: string]: unknown };

const a: Graph = JSON.parse(readFileSync("data/demo/graphs/circuit-tracer_gemma-3-1b_123.json", "utf8"));
const isFeature = (n: Node) => !["embedding", "logit", "mlp reconstruction error"].includes(n.feature_type);
const b: Graph = structuredClone(a);
b.metadata.slug = "compare-variant";
const featuresA = a.nodes.filter(isFeature);
const removed = [featuresA[3]!.node_id, featuresA[7]!.node_id];
b.nodes = b.nodes.filter((n) => !removed.includes(n.node_id));
b.links = b.links.filter((l) => !removed.includes(l.source) && !removed.includes(l.target));
const bf = (id: string) => b.nodes.find((n) => n.node_id === id)!;
bf(featuresA[10]!.node_id).influence = featuresA[10]!.influence! * 0.25;
bf(featuresA[11]!.node_id).influence = Math.min(1, featuresA[11]!.influence! + 0.3);
// featuresA[12] again at another position, more influential there: it represents the feature in b.
const again = featuresA[12]!;
const [layer12, idx12] = again.node_id.split("_");
const otherCtx = again.ctx_idx === 0 ? 1 : 0;
b.nodes.push({ ...structuredClone(again), node_id: `${layer12}_${idx12}_${otherCtx}`, ctx_idx: otherCtx, jsNodeId: `${layer12}_${idx12}-${otherCtx}`, influence: again.influence! / 2 });
// A feature only b uses.
b.nodes.push({ ...structuredClone(featuresA[0]!), node_id: `${featuresA[0]!.layer}_77777_1`, feature: cantorPair(Number(featuresA[0]!.layer), 77777), jsNodeId: `${featuresA[0]!.layer}_77777-1`, influence: 0.01 });
const other: Graph = structuredClone(a);
other.metadata.slug = "compare-other-model";
other.metadata.scan = "another-model";

beforeAll(async () => {
  t = await openTestApp();
  for (const [g, f] of [[a, "a.json"], [b, "b.json"], [other, "other.json"]] as const) expect((await ingest(g, f)).outcome).toBe("created");
}, 60_000);
afterAll(async () => t?.close());

/** The definition: per (layer, index) the node with the smallest influence (first in file order on ties). */
function features(g: Graph): Map<string, { node: string; positions: number; influence: number }> {
  const out = new Map<string, { node: string; positions: number; influence: number }>();
  for (const n of g.nodes.filter(isFeature)) {
    const key = `${n.layer}/${n.node_id.split("_")[1]}`;
    const seen = out.get(key);
    if (!seen) out.set(key, { node: n.node_id, positions: 1, influence: n.influence! });
    else {
      seen.positions++;
      if (n.influence! < seen.influence) Object.assign(seen, { node: n.node_id, influence: n.influence! });
    }
  }
  return out;
}

const Q = `query ($a: ID!, $b: ID!, $order: GraphComparisonOrder, $first: Int) {
  compareGraphs(a: $a, b: $b) {
    a { slug } b { slug } sharedCount onlyInACount onlyInBCount
    shared(first: $first, orderBy: $order) { layer featureIndex positionsA positionsB influenceA influenceB influenceDelta nodeA { nodeId } nodeB { nodeId influence } }
    onlyInA(first: 100) { nodeId influence }
    onlyInB(first: 100) { nodeId influence }
  } }`;

it("finds the shared features, their influence in each graph, and those only one graph uses", async () => {
  const fa = features(a), fb = features(b);
  const r = await run(Q, { a: a.metadata.slug, b: b.metadata.slug, first: 100 });
  expect(r.errors).toBeUndefined();
  const c = (r.data as any).compareGraphs;
  const sharedKeys = [...fa.keys()].filter((k) => fb.has(k));
  expect(c.a.slug).toBe(a.metadata.slug);
  expect(c.sharedCount).toBe(sharedKeys.length);
  expect(c.sharedCount).toBe(fa.size - 2);
  expect(c.onlyInACount).toBe(2);
  expect(c.onlyInBCount).toBe(1);
  expect(c.onlyInA.map((n: any) => n.nodeId).sort()).toEqual([...removed].sort());
  expect(c.onlyInB).toEqual([{ nodeId: `${featuresA[0]!.layer}_77777_1`, influence: 0.01 }]);
  for (const s of c.shared) {
    const key = `${s.layer}/${s.featureIndex}`;
    const x = fa.get(key)!, y = fb.get(key)!;
    expect(s).toMatchObject({ positionsA: x.positions, positionsB: y.positions, influenceA: x.influence, influenceB: y.influence, nodeA: { nodeId: x.node }, nodeB: { nodeId: y.node } });
    expect(s.influenceDelta).toBe(y.influence - x.influence);
  }
  // The repeated feature: two positions in b, represented by its more influential new node.
  const rep = c.shared.find((s: any) => s.nodeA.nodeId === again.node_id);
  expect(rep).toMatchObject({ positionsA: 1, positionsB: 2, nodeB: { nodeId: `${layer12}_${idx12}_${otherCtx}` } });
  // IMPORTANCE: the smaller of the two influences, ascending.
  const imp = c.shared.map((s: any) => Math.min(s.influenceA, s.influenceB));
  expect(imp).toEqual([...imp].sort((p: number, q: number) => p - q));
  const unchanged = c.shared.filter((s: any) => s.influenceDelta === 0).length;
  expect(unchanged).toBe(c.sharedCount - 3);
});

it("DIFFERENCE puts the features whose influence changed most first", async () => {
  const r = await run(Q, { a: a.metadata.slug, b: b.metadata.slug, order: "DIFFERENCE", first: 3 });
  expect(r.errors).toBeUndefined();
  const shared = (r.data as any).compareGraphs.shared as Array<{ nodeA: { nodeId: string }; influenceDelta: number }>;
  expect(shared).toHaveLength(3);
  expect(shared.map((s) => s.nodeA.nodeId).sort()).toEqual([featuresA[10]!.node_id, featuresA[11]!.node_id, again.node_id].sort());
  const mags = shared.map((s) => Math.abs(s.influenceDelta));
  expect(mags).toEqual([...mags].sort((p, q) => q - p));
  expect(mags[2]).toBeGreaterThan(0);
});

it("refuses graphs of different models and names an unknown slug", async () => {
  const diff = await run(Q, { a: a.metadata.slug, b: other.metadata.slug });
  expect((diff.errors as any)?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
  expect((diff.errors as any)?.[0]?.message).toMatch(/different models \(gemma-3-1b, another-model\)/);
  const missing = await run(Q, { a: a.metadata.slug, b: "no-such-graph" });
  expect((missing.errors as any)?.[0]?.extensions?.code).toBe("NOT_FOUND");
  expect((missing.errors as any)?.[0]?.message).toMatch(/no-such-graph/);
});
