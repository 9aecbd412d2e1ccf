// The default nearestToVector / nearestFeatures through GraphQL equal exact: true on every query:
// random query vectors (top cosines close together, where a fixed overfetch lost neighbours),
// near-duplicate clusters with exact duplicates (ties go to the lower index), and features whose
// decoder is all zeros (never returned).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { executeQuery } from "../../../src/graphql/execute.ts";
import { openTestApp, type TestApp } from "../../helpers/backend.ts";
import { rng } from "../../helpers/feature-seed.ts";
import { ingestDecoders } from "../../helpers/geometry-seed.ts";

const N = 3000;
const D = 64;
const ZEROS = new Set([0, 7, 500, 1999]);
let t: TestApp;

const gauss = (r: () => number) => Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());

beforeAll(async () => {
  t = await openTestApp();
  const r = rng(21);
  const raw = new Float32Array(N * D);
  const centre = new Float32Array(D);
  for (let i = 0; i < N; i++) {
    // Half the rows in tight clusters of 12, half scattered; every 50th row duplicates its predecessor.
    if (i % 12 === 0) for (let j = 0; j < D; j++) centre[j] = gauss(r);
    for (let j = 0; j < D; j++) raw[i * D + j] = i < N / 2 ? centre[j] + 0.03 * gauss(r) : gauss(r);
    if (i % 50 === 1) raw.copyWithin(i * D, (i - 1) * D, i * D);
  }
  for (const z of ZEROS) raw.fill(0, z * D, (z + 1) * D);
  await ingestDecoders(t.app, { modelId: "cert", saeId: "cert/a", d: D, raw, n: N });
}, 600_000);
afterAll(async () => t?.close());

type Hit = { cosine: number; feature: { index: number } };

async function both(query: string, vars: Record<string, unknown>): Promise<[Hit[], Hit[]]> {
  const r = await executeQuery(t.app, query, vars);
  expect(r.errors).toBeUndefined();
  const data = r.data as { got: Hit[]; want: Hit[] };
  return [data.got, data.want];
}

function expectSame(got: Hit[], want: Hit[]) {
  expect(got.map((h) => h.feature.index)).toEqual(want.map((h) => h.feature.index));
  got.forEach((h, i) => expect(h.cosine).toBeCloseTo(want[i].cosine, 5));
  for (const h of got) expect(ZEROS.has(h.feature.index)).toBe(false);
}

describe("certified exact nearest search (default settings)", () => {
  it("nearestToVector: recall@10 = 1.0 against exact: true on random vectors and cluster directions", async () => {
    const r = rng(5);
    const q = `query($v: [Float!]!) {
      got: nearestToVector(vector: $v, saeIds: ["cert/a"], k: 10) { cosine feature { index } }
      want: nearestToVector(vector: $v, saeIds: ["cert/a"], k: 10, exact: true) { cosine feature { index } }
    }`;
    for (let i = 0; i < 40; i++) {
      // Even: a random direction; odd: a cluster centre, plus noise (many near-ties among the top 10).
      const v = Array.from({ length: D }, () => gauss(r));
      if (i % 2) {
        const c = await executeQuery(t.app, `{ f: feature(saeId: "cert/a", index: ${12 * i + 1}) { decoder } }`);
        const dec = (c.data as { f: { decoder: number[] } | null })?.f?.decoder;
        if (dec) dec.forEach((x, j) => (v[j] = x + 0.05 * v[j] / Math.sqrt(D)));
      }
      const [got, want] = await both(q, { v });
      expect(got).toHaveLength(10);
      expectSame(got, want);
    }
  });

  it("nearestFeatures through the scan (k above the stored lists) equals exact: true, near-duplicates included", async () => {
    const q = `query($i: Int!) {
      got: nearestFeatures(saeId: "cert/a", index: $i, k: 40) { cosine feature { index } }
      want: nearestFeatures(saeId: "cert/a", index: $i, k: 40, exact: true) { cosine feature { index } }
    }`;
    for (const i of [1, 13, 51, 600, 1400, 1501, 2222, 2999]) {
      const [got, want] = await both(q, { i });
      expect(got.some((h) => h.feature.index === i)).toBe(false);
      expectSame(got, want);
    }
  });

  it("a query along a duplicated row returns both copies, the lower index first", async () => {
    const row = await executeQuery(t.app, `{ nearestFeatures(saeId: "cert/a", index: 51, k: 1, exact: true) { cosine feature { index } } }`);
    const first = (row.data as { nearestFeatures: Hit[] }).nearestFeatures[0];
    expect(first.feature.index).toBe(50);
    expect(first.cosine).toBeGreaterThan(0.9999);
  });
});
