// graphPaths and graphMediators through GraphQL on both backends, checked against the definitions
// written out (not against the algorithm): the generator's planted circuit (both id schemas) is found
// exactly after a real ingest, and bad arguments are refused with BAD_USER_INPUT / NOT_FOUND naming
// the argument and its bound.
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { executeQuery } from "../../../src/graphql/execute.ts";
import { parseLayerMapping } from "../../../src/modules/graph/index.ts";
import { openTestApp, type TestApp } from "../../helpers/backend.ts";
import { plantedGraph, type NeuronpediaLink } from "../../helpers/graph-generator.ts";

let t: TestApp;
beforeAll(async () => {
  t = await openTestApp();
});
afterAll(async () => t?.close());

const run = (query: string, variables?: Record<string, unknown>) => executeQuery(t.app, query, variables);
const ingest = (text: string, file: string) => t.app.services.graph.ingest(text, { file, replace: false, mapping: parseLayerMapping([], null) });

const PATHS = `query ($slug: ID!, $to: ID!, $from: ID, $k: Int, $maxLength: Int) {
  graphPaths(slug: $slug, to: $to, from: $from, k: $k, maxLength: $maxLength) { weight nodes { nodeId kind } } }`;
const MEDIATORS = `query ($slug: ID!, $target: ID!, $k: Int) {
  graphMediators(slug: $slug, target: $target, k: $k) { indirectEffect directFromPrompt node { nodeId kind label } } }`;

function normalised(links: NeuronpediaLink[], source: string, target: string): number {
  const into = links.filter((l) => l.target === target);
  return into.find((l) => l.source === source)!.weight / into.reduce((s, l) => s + Math.abs(l.weight), 0);
}

for (const schema of [1, 0] as const) {
  describe(`the planted circuit, id schema ${schema}`, () => {
    const { graph, planted } = plantedGraph({ schema, seed: 40 + schema, noiseFeatures: 60 });
    const slug = graph.metadata.slug;
    beforeAll(async () => {
      expect((await ingest(JSON.stringify(graph), `planted-${schema}.json`)).outcome).toBe("created");
    });

    it("graphPaths returns the chain first with the product of its normalised weights", async () => {
      const r = await run(PATHS, { slug, to: planted.target, k: 3 });
      expect(r.errors).toBeUndefined();
      const paths = (r.data as any).graphPaths as Array<{ weight: number; nodes: Array<{ nodeId: string; kind: string }> }>;
      expect(paths).toHaveLength(3);
      expect(paths[0]!.nodes.map((n) => n.nodeId)).toEqual(planted.chain);
      expect(paths[0]!.nodes.map((n) => n.kind)).toEqual(["EMBEDDING", "FEATURE", "FEATURE", "FEATURE", "LOGIT"]);
      const c = planted.chain;
      let expected = 1;
      for (let i = c.length - 2; i >= 0; i--) expected = normalised(graph.links, c[i]!, c[i + 1]!) * expected;
      expect(paths[0]!.weight).toBe(expected);
      expect(paths[1]!.nodes.map((n) => n.nodeId)).toEqual(planted.distractors[1]);
    });

    it("graphMediators ranks the middle node first, with no direct input from the prompt", async () => {
      const r = await run(MEDIATORS, { slug, target: planted.target, k: 2 });
      expect(r.errors).toBeUndefined();
      const [top, second] = (r.data as any).graphMediators;
      const [, a, m, c, target] = planted.chain as [string, string, string, string, string];
      expect(top).toEqual({
        node: { nodeId: m, kind: "FEATURE", label: "Los Angeles Lakers" },
        indirectEffect: normalised(graph.links, m, c) * normalised(graph.links, c, target),
        directFromPrompt: 0,
      });
      expect(second.node.nodeId).toBe(a);
      expect(second.directFromPrompt).toBe(1);
    });

    it("refuses bad arguments naming them, and an unknown graph as NOT_FOUND", async () => {
      const cases: Array<[string, Record<string, unknown>, string, RegExp]> = [
        [PATHS, { slug, to: "nope" }, "BAD_USER_INPUT", /to: the graph has no node "nope"/],
        [PATHS, { slug, to: planted.target, from: "E_0_99" }, "BAD_USER_INPUT", /from: the graph has no node "E_0_99"/],
        [PATHS, { slug, to: planted.target, maxLength: 0 }, "BAD_USER_INPUT", /maxLength must be between 1 and 16, got 0/],
        [PATHS, { slug, to: planted.target, maxLength: 99 }, "BAD_USER_INPUT", /maxLength must be between 1 and 16, got 99/],
        [PATHS, { slug, to: planted.target, k: 0 }, "BAD_USER_INPUT", /k must be between 1 and/],
        [PATHS, { slug: "no-such-graph", to: planted.target }, "NOT_FOUND", /no graph with slug "no-such-graph"/],
        [MEDIATORS, { slug, target: "x" }, "BAD_USER_INPUT", /target: the graph has no node "x"/],
        [MEDIATORS, { slug: "no-such-graph", target: "x" }, "NOT_FOUND", /no graph/],
      ];
      for (const [query, variables, code, message] of cases) {
        const r = await run(query, variables);
        const error = r.errors?.[0] as { message: string; extensions?: { code?: string } } | undefined;
        expect(error?.extensions?.code, JSON.stringify(variables)).toBe(code);
        expect(error?.message).toMatch(message);
      }
    });
  });
}

describe("the real circuit-tracer graph", () => {
  const REAL = "data/demo/graphs/circuit-tracer_gemma-3-1b_123.json";
  const slug = "nnsight-123-gemma-3-1b-gemmascope2-16k";
  beforeAll(async () => {
    await ingest(readFileSync(REAL, "utf8"), REAL);
  });
  it("answers paths into the top logit from the prompt and its mediators", async () => {
    const paths = await run(PATHS, { slug, to: "27_236812_3", k: 3 });
    expect(paths.errors).toBeUndefined();
    for (const p of (paths.data as any).graphPaths) expect(p.nodes[0].kind).toBe("EMBEDDING");
    const mediators = await run(MEDIATORS, { slug, target: "27_236812_3", k: 3 });
    expect(mediators.errors).toBeUndefined();
    expect((mediators.data as any).graphMediators).toHaveLength(3);
  });
});
