// graphPaths and graphMediators through GraphQL over stored graphs, on both backends: the planted
// circuit of the generator (both id schemas) comes back exactly as the pure algorithms find it on
// the file (same paths, same weights bit for bit), after a round trip through the rows; bad
// arguments are BAD_USER_INPUT naming the argument, an unknown graph NOT_FOUND; a replaced graph
// is never answered from the cache.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { executeQuery } from "../../../src/graphql/execute.ts";
import { indexGraph } from "../../../src/modules/graph/graph-index.ts";
import { graphMediators } from "../../../src/modules/graph/mediators.ts";
import { graphPaths } from "../../../src/modules/graph/paths.ts";
import { openTestApp, type TestApp } from "../../helpers/backend.ts";
import { plantedGraph, toGraphShape } from "../../helpers/graph-generator.ts";

let t: TestApp;
beforeAll(async () => {
  t = await openTestApp();
});
afterAll(async () => t?.close());

const run = (query: string, variables?: Record<string, unknown>) => executeQuery(t.app, query, variables);
const q = async (query: string, variables?: Record<string, unknown>) => {
  const r = await run(query, variables);
  expect(r.errors).toBeUndefined();
  return r.data as any;
};
const PATHS = `query($s: ID!, $to: ID!, $from: ID, $k: Int, $l: Int) { graphPaths(slug: $s, to: $to, from: $from, k: $k, maxLength: $l) { weight nodes { nodeId kind } } }`;
const MEDIATORS = `query($s: ID!, $t: ID!, $k: Int) { graphMediators(slug: $s, target: $t, k: $k) { indirectEffect directFromPrompt node { nodeId kind } } }`;

for (const schema of [1, 0] as const) {
  describe(`planted graph, id schema ${schema}`, () => {
    const slug = `planted-${schema}`;
    const { graph, planted } = plantedGraph({ schema, seed: 200 + schema, noiseFeatures: 60, slug });
    const index = indexGraph(toGraphShape(graph));

    beforeAll(async () => {
      await t.app.services.graph.ingest(JSON.stringify(graph), { file: "planted.json" });
    });

    it("round-trips through the rows", async () => {
      expect(await t.app.services.graph.exportFile(slug)).toEqual(JSON.parse(JSON.stringify(graph)));
    });

    it("graphPaths: the planted chain on top, equal to the algorithm on the file", async () => {
      const r = await q(PATHS, { s: slug, to: planted.target, k: 10, l: 6 });
      const expected = graphPaths(index, { to: planted.target, k: 10, maxLength: 6 });
      expect(r.graphPaths.map((p: any) => ({ nodeIds: p.nodes.map((n: any) => n.nodeId), weight: p.weight }))).toEqual(expected);
      expect(r.graphPaths[0].nodes.map((n: any) => n.nodeId)).toEqual(planted.chain);
      expect(r.graphPaths[0].nodes[0].kind).toBe("EMBEDDING");
      const fromA = await q(PATHS, { s: slug, to: planted.target, from: planted.chain[1], k: 2, l: 3 });
      expect(fromA.graphPaths[0].nodes.map((n: any) => n.nodeId)).toEqual(planted.chain.slice(1));
    });

    it("graphMediators: the missing concept on top, with no input from the prompt", async () => {
      const r = await q(MEDIATORS, { s: slug, t: planted.target, k: 5 });
      expect(r.graphMediators.map((m: any) => ({ nodeId: m.node.nodeId, indirectEffect: m.indirectEffect, directFromPrompt: m.directFromPrompt }))).toEqual(
        graphMediators(index, { target: planted.target, k: 5 }),
      );
      expect(r.graphMediators[0]).toMatchObject({ node: { nodeId: planted.mediator, kind: "FEATURE" }, directFromPrompt: 0 });
    });
  });
}

describe("errors", () => {
  const slug = "planted-1";
  const codeOf = async (query: string, variables: Record<string, unknown>) => {
    const r = await run(query, variables);
    const e = r.errors?.[0] as any;
    return { code: e?.extensions?.code, message: e?.message };
  };

  it("unknown graph, unknown node, k and maxLength out of range", async () => {
    expect(await codeOf(PATHS, { s: "nope", to: "x" })).toMatchObject({ code: "NOT_FOUND", message: expect.stringMatching(/nope/) });
    expect(await codeOf(MEDIATORS, { s: "nope", t: "x" })).toMatchObject({ code: "NOT_FOUND" });
    expect(await codeOf(PATHS, { s: slug, to: "9_9_9" })).toMatchObject({ code: "BAD_USER_INPUT", message: expect.stringMatching(/to/) });
    expect(await codeOf(MEDIATORS, { s: slug, t: "9_9_9" })).toMatchObject({ code: "BAD_USER_INPUT", message: expect.stringMatching(/target/) });
    expect(await codeOf(PATHS, { s: slug, to: "9_9_9", k: 0 })).toMatchObject({ code: "BAD_USER_INPUT", message: expect.stringMatching(/^k must be/) });
    expect(await codeOf(PATHS, { s: slug, to: "9_9_9", l: 0 })).toMatchObject({ code: "BAD_USER_INPUT", message: expect.stringMatching(/maxLength/) });
    expect(await codeOf(MEDIATORS, { s: slug, t: "9_9_9", k: 1001 })).toMatchObject({ code: "BAD_USER_INPUT", message: expect.stringMatching(/^k must be/) });
  });

  it("a graph larger than the cost limit is refused with advice, and pruning lets it through", async () => {
    const big = plantedGraph({ schema: 1, seed: 9, noiseFeatures: 3000, noiseFanIn: 8, slug: "big" }).graph;
    await t.app.services.graph.ingest(JSON.stringify(big), { file: "big.json" });
    const r = await codeOf(`{ graph(slug: "big") { links { source target weight } } }`, {});
    expect(r).toMatchObject({ code: "BAD_USER_INPUT", message: expect.stringMatching(/links after pruning .*minEdgeWeight/) });
    const pruned = await q(`{ graph(slug: "big", minEdgeWeight: 1e9) { links { weight } nodes { nodeId } } }`);
    expect(pruned.graph.links).toEqual([]);
  });
});

it("a replaced graph is answered from its new rows, not the cache", async () => {
  const { graph, planted } = plantedGraph({ schema: 1, seed: 300, slug: "replaced" });
  await t.app.services.graph.ingest(JSON.stringify(graph), { file: "a.json" });
  const before = await q(PATHS, { s: "replaced", to: planted.target, k: 1, l: 6 });
  const changed = structuredClone(graph);
  // Double every link into the target from its last chain node: the top path's weight changes.
  for (const l of changed.links) if (l.target === planted.target && l.source === planted.chain.at(-2)) l.weight *= 2;
  await t.app.services.graph.ingest(JSON.stringify(changed), { file: "b.json", replace: true });
  const after = await q(PATHS, { s: "replaced", to: planted.target, k: 1, l: 6 });
  expect(after.graphPaths[0].weight).not.toBe(before.graphPaths[0].weight);
  expect(after.graphPaths[0].weight).toBe(graphPaths(indexGraph(toGraphShape(changed)), { to: planted.target, k: 1, maxLength: 6 })[0]!.weight);
});

it("the demo graph answers the README's graphPaths and graphMediators queries with the output shown there", async () => {
  const { readFileSync } = await import("node:fs");
  await t.app.services.graph.ingest(readFileSync("data/demo/graphs/circuit-tracer_gemma-3-1b_123.json", "utf8"), { file: "real.json" });
  const s = "nnsight-123-gemma-3-1b-gemmascope2-16k";
  const paths = await q(PATHS, { s, to: "27_236812_3", k: 3, l: 4 });
  expect(paths.graphPaths.map((p: any) => [p.weight, p.nodes.map((n: any) => n.nodeId)])).toEqual([
    [0.12087825607932635, ["E_236800_3", "27_236812_3"]],
    [0.09527556989585792, ["E_2_0", "27_236812_3"]],
    [-0.029804563764877594, ["E_236800_3", "0_103_3", "27_236812_3"]],
  ]);
  const mediators = await q(MEDIATORS, { s, t: "27_236812_3", k: 3 });
  expect(mediators.graphMediators.map((m: any) => [m.node.nodeId, m.indirectEffect, m.directFromPrompt])).toEqual([
    ["22_1909_3", 0.028183193275325043, 0.4406033940917662],
    ["20_358_3", -0.019257633556060992, 0.329803328290469],
    ["24_1500_3", 0.0176425297410082, 0.39343295320487615],
  ]);
});
