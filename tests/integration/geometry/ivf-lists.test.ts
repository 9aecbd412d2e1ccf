// Neighbour lists from the IVF candidate step (the build above the exhaustive cut-off), on both
// backends: recall against the exhaustive lists above the noise floor, every list full, and an
// interrupted build (aborted after its first block, as a kill leaves it) finished by a resume.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTestApp, type TestApp } from "../../helpers/backend.ts";
import { rng } from "../../helpers/feature-seed.ts";
import { bruteForce, ingestSaeLike, row, type SeededSae } from "../../helpers/geometry-seed.ts";

let t: TestApp;
let a: SeededSae;
const K = 32;
/** max(0.2, noise floor + 0.05); the floor: median 32nd-best cosine of random unit vectors (as scripts/bench/ivf.ts). */
let cut = 0.2;

beforeAll(async () => {
  t = await openTestApp();
  a = await ingestSaeLike(t.app, { modelId: "ivf", saeId: "ivf/a", n: 4000, d: 128, seed: 31 });
  const r = rng(9);
  const floors = Array.from({ length: 21 }, () => {
    const v = Float32Array.from({ length: a.d }, () => r() * 2 - 1);
    const norm = Math.hypot(...v);
    return bruteForce(v.map((x) => x / norm), [a], K).at(-1)!.cosine;
  }).sort((x, y) => x - y);
  cut = Math.max(0.2, floors[10] + 0.05);
}, 600_000);
afterAll(async () => t?.close());

const nearest = () => t.app.services.geometry.nearest;

async function listsFull(): Promise<number> {
  const r = await t.app.db.prisma.$queryRaw<{ n: bigint }[]>`
    SELECT count(*) AS n FROM feature WHERE sae_id = 'ivf/a' AND cardinality(nn_indices) = 32 AND NOT (-1 = ANY(nn_indices))`;
  return Number(r[0].n);
}

async function recallAboveCut(): Promise<number> {
  let hit = 0;
  let want = 0;
  for (let i = 0; i < a.n; i += 13) {
    const got = new Set((await nearest().nearestFeatures({ saeId: a.saeId, index: i }, { k: K })).map((h) => h.index));
    for (const w of bruteForce(row(a, i), [a], K, { saeId: a.saeId, index: i }, cut)) {
      want++;
      if (got.has(w.index)) hit++;
    }
  }
  expect(want).toBeGreaterThan(100);
  return hit / want;
}

describe("IVF neighbour lists", () => {
  it("stores a full list for every feature, with recall >= 0.99 above the floor", async () => {
    const progress: Array<[number, number]> = [];
    const r = await nearest().buildNeighbourLists(a.saeId, { ivf: {}, blockRows: 1000, onProgress: (d, n) => void progress.push([d, n]) });
    expect(r.built).toBe(a.n);
    expect(await listsFull()).toBe(a.n);
    // Pass 1 and the joins report progress against one total.
    expect(progress.at(-1)).toEqual([4 * a.n, 4 * a.n]);
    expect(await recallAboveCut()).toBeGreaterThanOrEqual(0.99);
  }, 600_000);

  it("resumes an interrupted build: the stored blocks stay, the rest is built", async () => {
    const stop = new AbortController();
    const run = nearest().buildNeighbourLists(a.saeId, {
      ivf: {}, blockRows: 1000, signal: stop.signal,
      onProgress: (done) => {
        if (done >= 1000) stop.abort();
      },
    });
    await expect(run).rejects.toThrow();
    const partial = await listsFull();
    expect(partial).toBeGreaterThanOrEqual(1000);
    expect(partial).toBeLessThan(a.n);
    const r = await nearest().buildNeighbourLists(a.saeId, { ivf: {}, blockRows: 1000, restart: false });
    expect(r.built).toBe(a.n - partial);
    expect(await listsFull()).toBe(a.n);
    expect(await recallAboveCut()).toBeGreaterThanOrEqual(0.99);
  }, 600_000);
});
