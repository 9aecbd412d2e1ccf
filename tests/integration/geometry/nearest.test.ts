// Nearest features on both backends against brute-force exact cosines computed here:
// stored neighbour lists (written by the post-ingest hook), the int8 scan with exact re-rank,
// the exhaustive scan, cross-SAE queries, arbitrary vectors, d_in 4096, and the error cases.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { executeQuery } from "../../../src/graphql/execute.ts";
import { openTestApp, type TestApp } from "../../helpers/backend.ts";
import { bruteForce, ingestSaeLike, recall, row, type SeededSae } from "../../helpers/geometry-seed.ts";

let t: TestApp;
let a: SeededSae; // 2000 x 64, neighbour lists stored by the ingest hook
let b: SeededSae; // same model, for cross-SAE queries
let wide: SeededSae; // d_in 4096: beyond pgvector's index limits
const K = 10;
const queries = (n: number, count: number) => Array.from({ length: count }, (_, i) => (i * 7919 + 13) % n);

beforeAll(async () => {
  t = await openTestApp();
  a = await ingestSaeLike(t.app, { modelId: "geo", saeId: "geo/a", n: 2000, d: 64, seed: 11 });
  b = await ingestSaeLike(t.app, { modelId: "geo", saeId: "geo/b", n: 1000, d: 64, seed: 12 });
  wide = await ingestSaeLike(t.app, { modelId: "wide", saeId: "wide/a", n: 250, d: 4096, seed: 13 });
  await ingestSaeLike(t.app, { modelId: "other", saeId: "other/a", n: 50, d: 64, seed: 14 });
}, 600_000); // other post-ingest hooks (UMAP) run too
afterAll(async () => t?.close());

const nearest = () => t.app.services.geometry.nearest;

function meanRecall(pairs: Array<[{ saeId: string; index: number }[], { saeId: string; index: number }[]]>): number {
  return pairs.reduce((s, [g, w]) => s + recall(g, w), 0) / pairs.length;
}

describe("nearest features", () => {
  it("the ingest hook stored each feature's top-32 neighbours, matching brute force", async () => {
    const lists = await t.app.db.prisma.$queryRaw<{ n: bigint }[]>`
      SELECT count(*) AS n FROM feature WHERE sae_id = 'geo/a' AND cardinality(nn_indices) = 32`;
    expect(Number(lists[0].n)).toBe(a.n);
    const pairs = [];
    for (const i of queries(a.n, 60)) {
      const got = await nearest().nearestFeatures({ saeId: a.saeId, index: i }, { k: K });
      const want = bruteForce(row(a, i), [a], K, { saeId: a.saeId, index: i });
      expect(got.some((h) => h.index === i)).toBe(false);
      for (let r = 1; r < got.length; r++) expect(got[r].cosine).toBeLessThanOrEqual(got[r - 1].cosine);
      pairs.push([got, want] as [typeof got, typeof want]);
    }
    expect(meanRecall(pairs)).toBeGreaterThanOrEqual(0.99);
  });

  it("scans (approximate and exact) agree with brute force, excluding the feature itself", async () => {
    for (const exact of [false, true]) {
      const pairs = [];
      for (const i of queries(a.n, 40)) {
        // k above the stored 32 forces the scan path
        const got = await nearest().nearestFeatures({ saeId: a.saeId, index: i }, { k: 40, exact });
        const want = bruteForce(row(a, i), [a], 40, { saeId: a.saeId, index: i });
        expect(got).toHaveLength(40);
        expect(got.some((h) => h.index === i)).toBe(false);
        expect(Math.abs(got[0].cosine - want[0].cosine)).toBeLessThan(3e-3);
        pairs.push([got, want] as [typeof got, typeof want]);
      }
      expect(meanRecall(pairs)).toBeGreaterThanOrEqual(0.99);
    }
  });

  it("minCosine keeps only neighbours at or above it, on every path", async () => {
    for (const [k, exact] of [[10, false], [40, false], [10, true]] as const) {
      for (const i of queries(a.n, 10)) {
        const got = await nearest().nearestFeatures({ saeId: a.saeId, index: i }, { k, exact, minCosine: 0.3 });
        const want = bruteForce(row(a, i), [a], k, { saeId: a.saeId, index: i }, 0.3);
        expect(got.every((h) => h.cosine >= 0.3)).toBe(true);
        expect(Math.abs(got.length - want.length)).toBeLessThanOrEqual(1); // float16 rounding at the boundary
        expect(recall(got, want)).toBeGreaterThanOrEqual(want.length > 1 ? 0.5 : 0);
      }
    }
  });

  it("searches several SAEs of one model at once", async () => {
    const pairs = [];
    for (const i of queries(a.n, 30)) {
      const got = await nearest().nearestFeatures({ saeId: a.saeId, index: i }, { k: K, saeIds: [a.saeId, b.saeId] });
      const want = bruteForce(row(a, i), [a, b], K, { saeId: a.saeId, index: i });
      pairs.push([got, want] as [typeof got, typeof want]);
      // Only the other SAE: the feature's own SAE is not searched.
      const other = await nearest().nearestFeatures({ saeId: a.saeId, index: i }, { k: K, saeIds: [b.saeId] });
      expect(other.every((h) => h.saeId === b.saeId)).toBe(true);
      expect(recall(other, bruteForce(row(a, i), [b], K))).toBeGreaterThanOrEqual(0.9);
    }
    expect(meanRecall(pairs)).toBeGreaterThanOrEqual(0.99);
  });

  it("answers arbitrary vectors, including at d_in 4096", async () => {
    for (const s of [a, wide]) {
      const pairs = [];
      for (let qi = 0; qi < 20; qi++) {
        // a feature direction plus noise: realistic queries with real neighbours
        const v = Array.from(row(s, (qi * 37) % s.n), (x, j) => x + 0.05 * Math.sin(qi * 31 + j));
        for (const exact of [false, true]) {
          const got = await nearest().nearestToVector(v, { k: K, saeIds: [s.saeId], exact });
          pairs.push([got, bruteForce(Float32Array.from(v), [s], K)] as [typeof got, ReturnType<typeof bruteForce>]);
        }
      }
      expect(meanRecall(pairs)).toBeGreaterThanOrEqual(0.99);
    }
    const got = await nearest().nearestFeatures({ saeId: wide.saeId, index: 5 }, { k: K });
    expect(recall(got, bruteForce(row(wide, 5), [wide], K, { saeId: wide.saeId, index: 5 }))).toBeGreaterThanOrEqual(0.9);
  });

  it("rejects bad input with clear errors", async () => {
    const n = nearest();
    await expect(n.nearestToVector([1, 2, 3], { k: K, saeIds: [a.saeId] })).rejects.toThrow(/3 components; the SAEs' dIn is 64/);
    await expect(n.nearestToVector(new Array(64).fill(0), { k: K, saeIds: [a.saeId] })).rejects.toThrow(/all zeros/);
    await expect(n.nearestToVector(new Array(64).fill(1), { k: K, saeIds: [a.saeId, "other/a"] })).rejects.toThrow(/one model/);
    await expect(n.nearestToVector(new Array(64).fill(1), { k: K, saeIds: ["nope"] })).rejects.toThrow(/not found/);
    await expect(n.nearestFeatures({ saeId: a.saeId, index: 99999 }, { k: K })).rejects.toThrow(/not found/);
    await expect(n.nearestFeatures({ saeId: a.saeId, index: 1 }, { k: K, saeIds: ["other/a"] })).rejects.toThrow(/model/);
    await expect(n.nearestFeatures({ saeId: a.saeId, index: 1 }, { k: K, minCosine: 2 })).rejects.toThrow(/minCosine/);
  });

  it("serves the GraphQL fields, batching Feature.neighbors", async () => {
    const res = await executeQuery(
      t.app,
      `query($v: [Float!]!) {
        nearestFeatures(saeId: "geo/a", index: 3, k: 5) { cosine feature { id } }
        nearestToVector(vector: $v, saeIds: ["geo/a", "geo/b"], k: 3, exact: true) { cosine feature { id } }
        f: feature(saeId: "geo/a", index: 3) { neighbors(k: 5) { cosine feature { index } } }
      }`,
      { v: Array.from(row(a, 3)) },
    );
    const data = res.data as {
      nearestFeatures: { cosine: number; feature: { id: string } }[];
      nearestToVector: { cosine: number; feature: { id: string } }[];
      f: { neighbors: { cosine: number; feature: { index: number } }[] };
    };
    const want = bruteForce(row(a, 3), [a], 5, { saeId: a.saeId, index: 3 });
    expect(data.nearestFeatures.map((h) => h.feature.id)).toEqual(want.map((h) => `geo/a:${h.index}`));
    expect(data.f.neighbors.map((h) => h.feature.index)).toEqual(want.map((h) => h.index));
    expect(data.nearestToVector[0].feature.id).toBe("geo/a:3");
    expect(data.nearestToVector[0].cosine).toBeCloseTo(1, 2);
    expect(res.errors).toBeUndefined();
    const bad = await executeQuery(t.app, `{ bad: nearestToVector(vector: [1, 2], saeIds: ["geo/a"]) { cosine } }`);
    const err = (bad.errors ?? [])[0] as { path: string[]; extensions: { code: string } };
    expect(err.path).toEqual(["bad"]);
    expect(err.extensions.code).toBe("BAD_USER_INPUT");
  });
});
