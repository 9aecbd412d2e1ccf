// The global feature ids of circuit-tracer graphs (schema 1: Cantor pairing; schema 0: index +
// layer·10^p), checked against the real graph and as exact inverses, and the parser's id checks.
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { jsonPath, kindOf, parseGraphFile } from "../../../src/modules/graph/graph-file.ts";
import { cantorPair, cantorUnpair, FeatureIdCheck } from "../../../src/modules/graph/graph-ids.ts";

const realText = readFileSync("data/demo/graphs/circuit-tracer_gemma-3-1b_123.json", "utf8");

describe("global feature ids", () => {
  it("every feature node of the real graph decodes to the layer and index of its node id", () => {
    const doc = JSON.parse(realText);
    const features = doc.nodes.filter((n: any) => kindOf(n.feature_type) === "FEATURE");
    expect(features).toHaveLength(40);
    for (const n of features) {
      const [layer, index] = n.node_id.split("_").map(Number);
      expect(cantorUnpair(n.feature)).toEqual({ layer, index });
    }
    const parsed = parseGraphFile("real.json", realText);
    expect(parsed.nodes.filter((n) => n.kind === "FEATURE").map((n) => n.featureIdx)).toEqual(features.map((n: any) => Number(n.node_id.split("_")[1])));
  });

  it("Cantor pairing and unpairing are inverses (layers to 128, indices to 2^20)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 128 }), fc.integer({ min: 0, max: 2 ** 20 }), (layer, index) => {
        expect(cantorUnpair(cantorPair(layer, index))).toEqual({ layer, index });
      }),
    );
  });

  it("schema 0 infers one power of ten per graph and refuses a mix", () => {
    const ok = new FeatureIdCheck("f", 0);
    expect(ok.check("nodes[0]", "FEATURE", "3_42_1", "3", 1, 3042)).toBe(42);
    expect(ok.check("nodes[1]", "FEATURE", "0_7_1", "0", 1, 7)).toBe(7);
    expect(() => ok.finish()).not.toThrow();
    const mixed = new FeatureIdCheck("f", 0);
    mixed.check("nodes[0]", "FEATURE", "3_42_1", "3", 1, 3042);
    mixed.check("nodes[1]", "FEATURE", "2_42_1", "2", 1, 20042);
    expect(() => mixed.finish()).toThrow(/^f: nodes\[1\]\.feature: 20042 is not the schema-0 id of layer 2, index 42 .*10\^4 but nodes\[0\] uses 10\^3/);
    const small = new FeatureIdCheck("f", 0);
    small.check("nodes[0]", "FEATURE", "1_420_1", "1", 1, 520);
    expect(() => small.finish()).toThrow(/10\^2 is not above the largest feature index 420/);
  });

  it("node ids must agree with layer and ctx_idx, by kind", () => {
    const c = new FeatureIdCheck("f", 1);
    expect(() => c.check("nodes[0]", "EMBEDDING", "E_5_2", "E", 3, 0)).toThrow(/ends in position 2 but ctx_idx is 3/);
    expect(() => c.check("nodes[0]", "ERROR", "4_-1_2", "5", 2, -1)).toThrow(/starts with layer 4 but layer is "5"/);
    expect(() => c.check("nodes[0]", "FEATURE", "x_1_2", "x", 2, 1)).toThrow(/is not a feature id/);
    expect(c.check("nodes[0]", "LOGIT", "27_236812_3", "27", 3, 236812)).toBeNull();
  });

  it("error paths read like JavaScript", () => {
    expect(jsonPath("")).toBe("(root)");
    expect(jsonPath("/nodes/3/qk_tracing_results/pair_wise_contributors/0")).toBe("nodes[3].qk_tracing_results.pair_wise_contributors[0]");
    expect(jsonPath("/metadata/a~1b")).toBe("metadata.a/b");
  });
});
