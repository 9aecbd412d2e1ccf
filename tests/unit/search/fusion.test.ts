import { describe, expect, it } from "vitest";
import { reciprocalRankFusion, RRF_K } from "../../../src/modules/search/fusion.ts";

const list = (...keys: string[]) => keys.map((key) => ({ key }));

describe("reciprocalRankFusion", () => {
  it("sums 1 / (K + rank) over the lists that hold an item", () => {
    const fused = reciprocalRankFusion([list("a", "b", "c"), list("c", "a")]);
    const score = Object.fromEntries(fused.map((f) => [f.key, f.score]));
    expect(score.a).toBeCloseTo(1 / (RRF_K + 1) + 1 / (RRF_K + 2));
    expect(score.c).toBeCloseTo(1 / (RRF_K + 3) + 1 / (RRF_K + 1));
    expect(score.b).toBeCloseTo(1 / (RRF_K + 2));
    expect(fused.map((f) => f.key)).toEqual(["a", "c", "b"]);
  });

  it("puts agreement of both lists above a single list's top item", () => {
    const fused = reciprocalRankFusion([list("x", "both"), list("y", "both")]);
    expect(fused[0].key).toBe("both");
  });

  it("keeps what each list saw, and only an item's best rank within a list", () => {
    const fused = reciprocalRankFusion([[{ key: "a", v: 1 }, { key: "a", v: 2 }], []]);
    expect(fused).toHaveLength(1);
    expect(fused[0].from).toEqual([{ key: "a", v: 1 }, undefined]);
    expect(fused[0].score).toBeCloseTo(1 / (RRF_K + 1));
  });

  it("breaks ties by first appearance (earlier list first)", () => {
    expect(reciprocalRankFusion([list("a"), list("b")]).map((f) => f.key)).toEqual(["a", "b"]);
  });
});
