// Decoder-neuron alignment on both backends against a brute-force reference computed here:
// the basis direction e_j with the largest |cos(decoder, e_j)|, computed by looping over every
// neuron — through the ingest path (full-precision decoders) and through the post-ingest fill
// for rows stored without one (from the stored half-precision directions).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { executeQuery } from "../../../src/graphql/execute.ts";
import { openTestApp, type TestApp } from "../../helpers/backend.ts";
import { rng } from "../../helpers/feature-seed.ts";
import { seedRandomSae } from "../../helpers/random-sae.ts";

const D = 32;
let t: TestApp;

/** Brute force: cosine with every basis vector e_j (built explicitly), best |cosine| first. */
function reference(row: ArrayLike<number>) {
  const norm = Math.sqrt(Array.from(row).reduce((s, x) => s + x * x, 0));
  let best = { neuron: -1, cosine: 0 };
  for (let j = 0; j < row.length; j++) {
    const e = Array.from({ length: row.length }, (_, i) => (i === j ? 1 : 0));
    const cos = Array.from(row).reduce((s, x, i) => s + x * e[i]!, 0) / norm;
    if (Math.abs(cos) > Math.abs(best.cosine)) best = { neuron: j, cosine: cos };
  }
  return best;
}

async function storedAlignment(saeId: string) {
  return t.app.db.prisma.$queryRaw<{ idx: number; neuron: number | null; cosine: number | null }[]>`
    SELECT idx, neuron_index AS neuron, neuron_cosine AS cosine FROM feature WHERE sae_id = ${saeId} ORDER BY idx`;
}

beforeAll(async () => {
  t = await openTestApp();
});
afterAll(async () => t?.close());

describe("neuron alignment", () => {
  it("is stored by ingest for every decoder row, signed, and served as Feature.neuronAlignment", async () => {
    const r = rng(5);
    const rows = Array.from({ length: 40 }, () => Array.from({ length: D }, () => r() * 2 - 1));
    rows[7]![3] = -9; // a dominant negative component: negative cosine
    rows[8] = Array.from({ length: D }, (_, j) => (j === 11 ? 2 : 0)); // one-hot: cosine 1
    await t.app.services.ingest.ingestSae(
      { model: { id: "al" }, sae: { id: "al/ingest", architecture: "standard", dIn: D, dSae: 41 }, source: { format: "test", path: "x" }, contentHash: "x" },
      async (sink) => sink.features([...rows.map((decoder, index) => ({ index, decoder })), { index: 40, decoder: new Array(D).fill(0) }]),
    );
    const got = await storedAlignment("al/ingest");
    rows.forEach((row, i) => {
      const ref = reference(row);
      expect(got[i]!.neuron).toBe(ref.neuron);
      expect(got[i]!.cosine).toBeCloseTo(ref.cosine, 6);
    });
    expect(got[7]).toMatchObject({ neuron: 3 });
    expect(got[7]!.cosine).toBeLessThan(0);
    expect(got[8]).toMatchObject({ neuron: 11, cosine: 1 });
    expect(got[40]).toEqual({ idx: 40, neuron: null, cosine: null }); // zero row: no direction

    const q = await executeQuery(t.app, `{ a: feature(saeId: "al/ingest", index: 7) { neuronAlignment { neuron cosine } }
      z: feature(saeId: "al/ingest", index: 40) { neuronAlignment { neuron cosine } } }`);
    expect(q.errors).toBeUndefined();
    expect((q.data as any).a.neuronAlignment).toEqual({ neuron: 3, cosine: expect.closeTo(reference(rows[7]!).cosine, 6) });
    expect((q.data as any).z.neuronAlignment).toBeNull();
  });

  it("is filled after ingest for rows stored without one, from the stored directions", async () => {
    const s = await seedRandomSae(t.app, { saeId: "al/raw", n: 60, dIn: D, seed: 9 });
    expect((await storedAlignment("al/raw")).every((r) => r.neuron === null)).toBe(true);
    await t.app.services.alignment.onSaeReady("al/raw");
    const got = await storedAlignment("al/raw");
    s.decoder.forEach((row, i) => {
      const ref = reference(row);
      expect(got[i]!.neuron).toBe(ref.neuron);
      // The stored direction is half precision.
      expect(got[i]!.cosine).toBeCloseTo(ref.cosine, 2);
    });
    expect(await t.app.services.alignment.fillMissing("al/raw")).toBe(0);
  });
});
