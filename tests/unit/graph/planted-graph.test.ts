// The planted circuit (tests/helpers/graph-generator.ts) is found exactly: the top path into the
// target is the chain E → A → M → C → logit with the product of its normalised weights, and the top
// mediator is the middle node M (no embedding input), in both global-feature-id schemas.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { indexGraph } from "../../../src/modules/graph/graph-index.ts";
import { graphMediators } from "../../../src/modules/graph/mediators.ts";
import { graphPaths } from "../../../src/modules/graph/paths.ts";
import { cantorPair, plantedGraph, toGraphShape, type NeuronpediaGraph, type NeuronpediaLink } from "../../helpers/graph-generator.ts";
import { AppError } from "../../../src/errors.ts";

function expectAppError(run: () => unknown, code: string, message: RegExp): void {
  let caught: unknown;
  try {
    run();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(AppError);
  expect((caught as AppError).code).toBe(code);
  expect((caught as AppError).message).toMatch(message);
}

/** A(s→t) straight from the definition: w(s→t) ÷ Σ|w(u→t)| over every link into t. */
function normalised(links: NeuronpediaLink[], source: string, target: string): number {
  const into = links.filter((l) => l.target === target);
  const link = into.find((l) => l.source === source)!;
  return link.weight / into.reduce((sum, l) => sum + Math.abs(l.weight), 0);
}

/** The product along a node sequence, accumulated from the end (graphPaths' documented order). */
function pathWeight(links: NeuronpediaLink[], nodes: string[]): number {
  let product = 1;
  for (let i = nodes.length - 2; i >= 0; i--) product = normalised(links, nodes[i]!, nodes[i + 1]!) * product;
  return product;
}

for (const schema of [1, 0] as const) {
  describe(`planted graph, id schema ${schema}`, () => {
    const { graph, planted } = plantedGraph({ schema, seed: 100 + schema, noiseFeatures: 40 });
    const g = indexGraph(toGraphShape(graph));
    const [embedding, a, m, c, target] = planted.chain as [string, string, string, string, string];

    it("the top path is the planted chain, with the product of its normalised weights", () => {
      const paths = graphPaths(g, { to: target, k: 5, maxLength: 6 });
      expect(paths[0]!.nodeIds).toEqual(planted.chain);
      expect(paths[0]!.weight).toBe(pathWeight(graph.links, planted.chain));
      // The error node's link into the target counts in the normalisation.
      const withoutError = graph.links.filter((l) => l.source !== planted.errorNode);
      expect(paths[0]!.weight).not.toBeCloseTo(pathWeight(withoutError, planted.chain), 6);
      for (const p of paths) expect(p.nodeIds.at(-1)).toBe(target);
      for (let i = 1; i < paths.length; i++) expect(Math.abs(paths[i - 1]!.weight)).toBeGreaterThanOrEqual(Math.abs(paths[i]!.weight));
      // The negative distractor is the runner-up, sign kept.
      expect(paths[1]!.nodeIds).toEqual(planted.distractors[1]);
      expect(paths[1]!.weight).toBeLessThan(0);
    });

    it("from and maxLength restrict the paths", () => {
      const fromA = graphPaths(g, { to: target, from: a, k: 3, maxLength: 6 });
      expect(fromA[0]!.nodeIds).toEqual([a, m, c, target]);
      expect(fromA.every((p) => p.nodeIds[0] === a)).toBe(true);
      const short = graphPaths(g, { to: target, k: 50, maxLength: 2 });
      expect(short[0]!.nodeIds).toEqual(planted.distractors[1]);
      expect(short.every((p) => p.nodeIds.length <= 3)).toBe(true);
      expect(short.some((p) => p.nodeIds.join() === planted.distractors[2]!.join())).toBe(true);
      expect(graphPaths(g, { to: target, from: m, k: 3, maxLength: 1 })).toEqual([]);
    });

    it("the top mediator is the middle node, which gets no input from the prompt", () => {
      const mediators = graphMediators(g, { target, k: 5 });
      expect(mediators[0]!.nodeId).toBe(m);
      expect(mediators[0]!.indirectEffect).toBe(normalised(graph.links, m, c) * normalised(graph.links, c, target));
      expect(mediators[0]!.directFromPrompt).toBe(0);
      const second = mediators.find((x) => x.nodeId === a)!;
      expect(second.indirectEffect).toBeCloseTo(normalised(graph.links, a, m) * mediators[0]!.indirectEffect, 12);
      expect(second.directFromPrompt).toBe(1);
      // C reaches the target in one link only: no indirect effect.
      expect(graphMediators(g, { target, k: 1000 }).find((x) => x.nodeId === c)!.indirectEffect).toBe(0);
      expect(mediators.some((x) => x.nodeId === embedding)).toBe(false);
    });

    it("writes the global feature id of its schema and every node field of the real graph", () => {
      const real = JSON.parse(readFileSync(resolve(import.meta.dirname, "../../../data/demo/graphs/circuit-tracer_gemma-3-1b_123.json"), "utf8")) as NeuronpediaGraph;
      const keysByType = new Map(real.nodes.map((n) => [n.feature_type, Object.keys(n).sort()]));
      for (const node of graph.nodes) expect(Object.keys(node).sort()).toEqual(keysByType.get(node.feature_type));
      expect(Object.keys(graph.metadata)).toEqual(expect.arrayContaining(["slug", "scan", "prompt_tokens", "prompt", "info", "pruning_settings"]));
      expect(Object.keys(graph.qParams).sort()).toEqual(Object.keys(real.qParams).sort());
      const node = graph.nodes.find((n) => n.node_id === m)!;
      const [layer, index] = m.split("_").map(Number) as [number, number];
      expect(node.feature).toBe(schema === 1 ? cantorPair(layer, index) : index + layer * 100_000);
      expect(graph.metadata.schema_version).toBe(schema === 1 ? 1 : undefined);
    });
  });
}

it("the generator's Cantor pairing matches the real circuit-tracer graph's feature ids", () => {
  const real = JSON.parse(readFileSync(resolve(import.meta.dirname, "../../../data/demo/graphs/circuit-tracer_gemma-3-1b_123.json"), "utf8")) as NeuronpediaGraph;
  const features = real.nodes.filter((n) => n.feature_type === "cross layer transcoder");
  expect(features.length).toBeGreaterThan(10);
  for (const n of features) {
    const [layer, index] = n.node_id.split("_").map(Number) as [number, number];
    expect(n.feature).toBe(cantorPair(layer, index));
  }
});

describe("on the real circuit-tracer graph", () => {
  const real = JSON.parse(readFileSync(resolve(import.meta.dirname, "../../../data/demo/graphs/circuit-tracer_gemma-3-1b_123.json"), "utf8")) as NeuronpediaGraph;
  const g = indexGraph(toGraphShape(real));
  const target = real.nodes.find((n) => n.is_target_logit)!.node_id;
  it("finds paths from the prompt and ranks mediators", () => {
    const paths = graphPaths(g, { to: target, k: 5, maxLength: 6 });
    expect(paths).toHaveLength(5);
    for (const p of paths) expect(p.nodeIds[0]).toMatch(/^E_/);
    const mediators = graphMediators(g, { target, k: 5 });
    expect(mediators).toHaveLength(5);
    for (const x of mediators) expect(x.directFromPrompt).toBeGreaterThanOrEqual(0);
  });
});

describe("bad arguments", () => {
  const { graph, planted } = plantedGraph();
  const g = indexGraph(toGraphShape(graph));
  it("name the argument and the problem", () => {
    expectAppError(() => graphPaths(g, { to: "nope", k: 5, maxLength: 6 }), "BAD_USER_INPUT", /to: the graph has no node "nope"/);
    expectAppError(() => graphPaths(g, { to: planted.target, from: "x_1", k: 5, maxLength: 6 }), "BAD_USER_INPUT", /from: the graph has no node/);
    expectAppError(() => graphPaths(g, { to: planted.target, k: 0, maxLength: 6 }), "BAD_USER_INPUT", /k must be between 1 and/);
    expectAppError(() => graphPaths(g, { to: planted.target, k: 5, maxLength: 0 }), "BAD_USER_INPUT", /maxLength must be between 1 and 16, got 0/);
    expectAppError(() => graphPaths(g, { to: planted.target, k: 5, maxLength: 2.5 }), "BAD_USER_INPUT", /maxLength/);
    expectAppError(() => graphMediators(g, { target: "", k: 5 }), "BAD_USER_INPUT", /target: the graph has no node ""/);
    expectAppError(() => graphMediators(g, { target: planted.target, k: -1 }), "BAD_USER_INPUT", /k must be between/);
  });
});

describe("massive ties", () => {
  // Five layers of ten nodes, every node linked to every node of the next layer with weight 1: all
  // 10^4 paths from the embeddings into `to` weigh (1/10)^4 exactly, so the tie order alone decides.
  const ids = (layer: number) => Array.from({ length: 10 }, (_, i) => `${layer}_${String(9 - i).padStart(2, "0")}`);
  const layers = [0, 1, 2, 3].map(ids);
  const nodes = [
    ...layers[0]!.map((nodeId) => ({ nodeId, kind: "EMBEDDING" as const })),
    ...layers.slice(1).flat().map((nodeId) => ({ nodeId, kind: "FEATURE" as const })),
    { nodeId: "to", kind: "LOGIT" as const },
  ];
  const links = [
    ...layers.slice(1).flatMap((layer, i) => layer.flatMap((target) => layers[i]!.map((source) => ({ source, target, weight: 1 })))),
    ...layers[3]!.map((source) => ({ source, target: "to", weight: 1 })),
  ];
  const g = indexGraph({ nodes, links });

  it("are resolved exactly by the node-id order", () => {
    const top = graphPaths(g, { to: "to", k: 3, maxLength: 6 });
    expect(top.map((p) => p.nodeIds)).toEqual([
      ["0_00", "1_00", "2_00", "3_00", "to"],
      ["0_00", "1_00", "2_00", "3_01", "to"],
      ["0_00", "1_00", "2_00", "3_02", "to"],
    ]);
    expect(top[0]!.weight).toBe(0.1 * (0.1 * (0.1 * 0.1)));
  });

  it("past the search budget are refused, naming the way out", () => {
    expectAppError(() => graphPaths(g, { to: "to", k: 3, maxLength: 6, searchBudget: 500 }), "BAD_USER_INPUT", /more than 500 partial paths tie for the top 3.*lower maxLength or k/);
  });
});
