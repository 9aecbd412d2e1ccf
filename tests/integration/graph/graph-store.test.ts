// Attribution graphs on both backends: ingest with the published schema and our own checks
// (refused files store nothing), the exact round trip (export rebuilt from rows equals the
// file field by field and passes the schema), re-ingest as a no-op, --replace, pruning in the
// `graph` query, and the link from graph nodes to stored SAE features (GraphNode.feature,
// Feature.graphs), on the real circuit-tracer graph and on small built graphs of both id schemas.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { executeQuery } from "../../../src/graphql/execute.ts";
import { assertSchema } from "../../../src/modules/graph/graph-file.ts";
import { parseLayerMapping } from "../../../src/modules/graph/index.ts";
import { attributionGraphStep } from "../../../src/demo/graph-step.ts";
import { openTestApp, type TestApp } from "../../helpers/backend.ts";
import { seedFeatures } from "../../helpers/feature-seed.ts";
import { rowCounts } from "../../helpers/row-counts.ts";
import { smallGraph } from "../../helpers/graph-files.ts";

const REAL = "data/demo/graphs/circuit-tracer_gemma-3-1b_123.json";
const realText = readFileSync(REAL, "utf8");

let t: TestApp;
beforeAll(async () => {
  t = await openTestApp();
  // Features 0..9 of two layers' SAEs, so the built graphs' feature nodes can link to them.
  await seedFeatures(t.app, { saeId: "gm/0-tc", modelId: "gm", n: 10, examples: 0 });
  await seedFeatures(t.app, { saeId: "gm/1-tc", modelId: "gm", n: 10, examples: 0 });
});
afterAll(async () => t?.close());

const svc = () => t.app.services.graph;
const q = async (query: string, variables?: Record<string, unknown>) => {
  const r = await executeQuery(t.app, query, variables);
  expect(r.errors).toBeUndefined();
  return r.data as any;
};
const ingestText = (text: string, file = "g.json", replace = false, template: string | null = null) =>
  svc().ingest(text, { file, replace, mapping: parseLayerMapping([], template) });

async function roundTrip(text: string, slug: string, template: string | null = null) {
  const exported = await svc().exportFile(slug);
  expect(exported).toEqual(JSON.parse(text));
  assertSchema("export", exported);
  // Re-imports to the same rows: a second database would do; the same slug again under --replace
  // must reproduce an equal export.
  await ingestText(JSON.stringify(exported), "re.json", true, template);
  expect(await svc().exportFile(slug)).toEqual(JSON.parse(text));
}

describe("the real circuit-tracer graph", () => {
  it("ingests, exports equal to the file field by field, and re-ingest is a no-op", async () => {
    const s = await ingestText(realText, REAL);
    expect(s).toMatchObject({ slug: "nnsight-123-gemma-3-1b-gemmascope2-16k", modelId: "gemma-3-1b", outcome: "created", nodes: 57, links: 221 });
    const before = await rowCounts(t.app.db);
    expect((await ingestText(realText, REAL)).outcome).toBe("skipped");
    expect(await rowCounts(t.app.db)).toEqual(before);
    await roundTrip(realText, s.slug);
  });

  it("serves graph, graphs and pruning as the issue defines them", async () => {
    const doc = JSON.parse(realText);
    const all = await q(`{ graph(slug: "nnsight-123-gemma-3-1b-gemmascope2-16k") { slug modelId prompt promptTokens nodeCount linkCount
      nodes { nodeId kind layer ctxIdx influence activation tokenProb label feature { id } } links { source target weight } } }`);
    expect(all.graph).toMatchObject({ slug: doc.metadata.slug, modelId: "gemma-3-1b", prompt: "<bos>123", promptTokens: doc.metadata.prompt_tokens });
    expect(all.graph.nodes.map((n: any) => n.nodeId)).toEqual(doc.nodes.map((n: any) => n.node_id));
    expect(all.graph.links).toEqual(doc.links);
    const logit = all.graph.nodes.find((n: any) => n.kind === "LOGIT" && n.label.includes('"4"'));
    expect(logit).toMatchObject({ tokenProb: expect.closeTo(0.328, 3), influence: null, feature: null });
    const kinds = all.graph.nodes.reduce((m: any, n: any) => ((m[n.kind] = (m[n.kind] ?? 0) + 1), m), {});
    expect(kinds).toEqual({ FEATURE: 40, ERROR: 8, EMBEDDING: 4, LOGIT: 5 });

    const t0 = 0.4;
    const w0 = 5;
    const pruned = await q(`query($t: Float, $w: Float) { graph(slug: "nnsight-123-gemma-3-1b-gemmascope2-16k", nodeThreshold: $t, minEdgeWeight: $w) {
      nodes { nodeId } links { source target weight } } }`, { t: t0, w: w0 });
    const keptIds = new Set(
      doc.nodes
        .filter((n: any) => ["embedding", "logit"].includes(n.feature_type) || (typeof n.influence === "number" && n.influence <= t0))
        .map((n: any) => n.node_id),
    );
    expect(pruned.graph.nodes.map((n: any) => n.nodeId)).toEqual([...keptIds]);
    expect(pruned.graph.links).toEqual(doc.links.filter((l: any) => keptIds.has(l.source) && keptIds.has(l.target) && Math.abs(l.weight) >= w0));
    expect(pruned.graph.links.length).toBeGreaterThan(0);
    expect(pruned.graph.links.length).toBeLessThan(doc.links.length);

    expect((await q(`{ graphs(modelId: "gemma-3-1b") { slug } }`)).graphs).toEqual([{ slug: doc.metadata.slug }]);
    expect((await q(`{ graphs(modelId: "nope") { slug } }`)).graphs).toEqual([]);
    expect((await q(`{ graph(slug: "nope") { slug } }`)).graph).toBeNull();
  });

  it("refuses a different file under the same slug without --replace, and replaces with it", async () => {
    const doc = JSON.parse(realText);
    doc.nodes[0].clerp = "a new label";
    const changed = JSON.stringify(doc);
    const before = await rowCounts(t.app.db);
    await expect(ingestText(changed, "changed.json")).rejects.toThrow(/changed\.json: metadata\.slug: .*--replace/);
    expect(await rowCounts(t.app.db)).toEqual(before);
    expect((await ingestText(changed, "changed.json", true)).outcome).toBe("replaced");
    expect(await svc().exportFile(doc.metadata.slug)).toEqual(doc);
    const r = await q(`{ graph(slug: "${doc.metadata.slug}") { nodes { nodeId label } } }`);
    expect(r.graph.nodes[0]).toEqual({ nodeId: doc.nodes[0].node_id, label: "a new label" });
    await ingestText(realText, REAL, true);
  });
});

it("the demo step imports data/demo/graphs once and keeps it after", async () => {
  const ctx = { services: t.app.services, dataDir: "data/demo" };
  await svc().delete("nnsight-123-gemma-3-1b-gemmascope2-16k");
  expect(await attributionGraphStep.run(ctx)).toBe("attribution graphs: nnsight-123-gemma-3-1b-gemmascope2-16k created: 57 nodes, 221 links");
  expect(await attributionGraphStep.run(ctx)).toBe("attribution graphs: nnsight-123-gemma-3-1b-gemmascope2-16k (kept)");
  expect(await attributionGraphStep.run({ ...ctx, dataDir: "/nonexistent" })).toMatch(/^no \/nonexistent\/graphs: no attribution graphs$/);
});

describe("built graphs of both id schemas", () => {
  for (const schema of [0, 1] as const) {
    it(`schema ${schema}: round trip, layer mapping to stored features, Feature.graphs`, async () => {
      const g = smallGraph({ slug: `small-${schema}`, schema, scan: "gm" });
      const text = JSON.stringify(g);
      const s = await ingestText(text, "small.json", false, "gm/{layer}-tc");
      // Feature nodes of layers 0 and 1 map to stored features; layer 2 maps to an SAE that is not stored.
      expect(s).toMatchObject({ outcome: "created", mappedNodes: 3, linkedNodes: 2 });
      await roundTrip(text, g.metadata.slug, "gm/{layer}-tc");
      const r = await q(`{ graph(slug: "small-${schema}") { nodes { nodeId label feature { id } } } }`);
      const byId = Object.fromEntries(r.graph.nodes.map((n: any) => [n.nodeId, n]));
      expect(byId["0_3_1"].feature).toEqual({ id: "gm/0-tc:3" });
      expect(byId["1_7_2"].feature).toEqual({ id: "gm/1-tc:7" });
      expect(byId["2_5_2"]).toEqual({ nodeId: "2_5_2", label: "unlinked layer-2 feature", feature: null });
      const f = await q(`{ feature(saeId: "gm/0-tc", index: 3) { graphs { graph { slug } node { nodeId kind } } } }`);
      expect(f.feature.graphs).toContainEqual({ graph: { slug: `small-${schema}` }, node: { nodeId: "0_3_1", kind: "FEATURE" } });
    });
  }
});

it("a node links to its feature only while the feature is stored, and delete removes every row", async () => {
  const g = smallGraph({ slug: "dynamic", schema: 1, scan: "gm" });
  // Layer 2 maps to an SAE that does not exist yet.
  await svc().ingest(JSON.stringify(g), { file: "d.json", mapping: parseLayerMapping(["2=gm/late"], null) });
  const featureOf = async () => (await q(`{ graph(slug: "dynamic") { nodes { nodeId feature { id } } } }`)).graph.nodes.find((n: any) => n.nodeId === "2_5_2").feature;
  expect(await featureOf()).toBeNull();
  await seedFeatures(t.app, { saeId: "gm/late", modelId: "gm", n: 6, examples: 0 });
  expect(await featureOf()).toEqual({ id: "gm/late:5" });
  await t.app.services.ingest.removeSae("gm/late");
  expect(await featureOf()).toBeNull();
  const before = await rowCounts(t.app.db);
  expect(await svc().delete("dynamic")).toBe(true);
  const after = await rowCounts(t.app.db);
  expect([before.attribution_graph! - after.attribution_graph!, before.graph_node! - after.graph_node!, before.graph_link! - after.graph_link!]).toEqual([1, 8, 7]);
  expect((await q(`{ graph(slug: "dynamic") { slug } }`)).graph).toBeNull();
  expect(await svc().delete("dynamic")).toBe(false);
});

describe("refused files store nothing and name file, path and problem", () => {
  const cases: Array<[string, (g: any) => void, RegExp]> = [
    ["schema: missing field", (g) => delete g.nodes[1].jsNodeId, /^bad\.json: nodes\[1\]\.jsNodeId: is required \(graph-schema\.json\)$/],
    ["schema: wrong type", (g) => (g.links[0].weight = "1"), /^bad\.json: links\[0\]\.weight: must be number/],
    ["dangling link", (g) => (g.links[1].target = "9_9_9"), /^bad\.json: links\[1\]\.target: no node has id "9_9_9"$/],
    ["infinite weight", (g) => (g.links[0].weight = "__INF__"), /^bad\.json: .*links\[0\]\.weight: Infinity is not a finite number$/],
    ["duplicate node", (g) => g.nodes.push({ ...g.nodes[0] }), /^bad\.json: nodes\[\d+\]\.node_id: "E_10_0" repeats nodes\[0\]$/],
    ["cantor id", (g) => (g.nodes[1].feature += 1), /^bad\.json: nodes\[1\]\.feature: \d+ is not the schema-1 id of layer 0, index 3/],
    ["node id vs ctx_idx", (g) => (g.nodes[1].ctx_idx = 2), /^bad\.json: nodes\[1\]\.node_id: "0_3_1" ends in position 1 but ctx_idx is 2$/],
    ["NUL in a label", (g) => (g.nodes[1].clerp = "a\u0000b"), /^bad\.json: .*nodes\[1\]\.clerp: contains a NUL character/],
    ["bad schema_version", (g) => (g.metadata.schema_version = 7), /^bad\.json: metadata\.schema_version: 7 is not 0 or 1$/],
  ];
  for (const [name, mutate, message] of cases) {
    it(name, async () => {
      const g = smallGraph({ slug: "refused", schema: 1, scan: "gm" });
      mutate(g);
      const before = await rowCounts(t.app.db);
      // JSON.stringify cannot write 1e999 (it parses to Infinity), so it goes into the text.
      const e = await ingestText(JSON.stringify(g).replace('"__INF__"', "1e999"), "bad.json").catch((x) => x);
      expect(e).toMatchObject({ code: "BAD_USER_INPUT" });
      expect(e.message).toMatch(message);
      expect(await rowCounts(t.app.db)).toEqual(before);
    });
  }

  it("schema 0 ids must share one power of ten above every index", async () => {
    const g = smallGraph({ slug: "refused0", schema: 0, scan: "gm" });
    g.nodes.find((n: any) => n.node_id === "1_7_2").feature = 7 + 1 * 1000;
    await expect(ingestText(JSON.stringify(g), "bad0.json")).rejects.toThrow(/^bad0\.json: nodes\[\d+\]\.feature: \d+ is not the schema-0 id of layer \d, index \d .*uses 10\^\d but nodes\[\d+\] uses 10\^\d/);
  });

  it("not JSON, and an unreadable file", async () => {
    await expect(ingestText("{", "x.json")).rejects.toThrow(/^x\.json: \(root\): not valid JSON/);
    await expect(svc().ingestFile("/nonexistent/g.json", { file: "g.json" })).rejects.toThrow(/^g\.json: \(file\): cannot be read: ENOENT$/);
  });
});
