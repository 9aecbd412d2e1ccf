// SaeStats and the family scaling view on both backends, against brute-force counts
// computed here from the seeded values.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { executeQuery } from "../../../src/graphql/execute.ts";
import { openTestApp, type TestApp } from "../../helpers/backend.ts";
import { median, type RandomSae, seedRandomSae } from "../../helpers/random-sae.ts";

let t: TestApp;
let a: RandomSae; // densities (some 0, some unknown), correlations, no examples
let b: RandomSae; // no densities, activation examples for some features
let c: RandomSae; // nothing known
const fam = "fam";
const sizes = [8, 16, 32];

/** Best |cosine| of a raw decoder row with a basis direction. */
const bestAbsCos = (d: Float64Array) => Math.max(...Array.from(d, Math.abs)) / Math.hypot(...d);
const frac = (hits: number, total: number) => (total ? hits / total : null);

beforeAll(async () => {
  t = await openTestApp();
  const p = t.app.db.prisma;
  a = await seedRandomSae(t.app, {
    saeId: "m/a",
    n: 60,
    dIn: 6,
    seed: 1,
    density: (i) => (i % 5 === 0 ? 0 : i % 7 === 0 ? null : Math.fround(0.001 * (1 + ((i * 37) % 50)))),
    neuronCorr: (i) => (i % 4 === 3 ? null : Math.fround(((i * 13) % 21) / 20 - 0.2)),
  });
  // Decoder-neuron alignment as the ingest path stores it (tested on its own in alignment.test.ts).
  for (const s of [a]) {
    const idx = s.decoder.map((_, i) => i);
    const cos = s.decoder.map((d) => bestAbsCos(d));
    await p.$executeRaw`UPDATE feature f SET neuron_index = 0, neuron_cosine = t.c
      FROM unnest(${idx}::int[], ${cos}::real[]) AS t(i, c) WHERE f.sae_id = ${s.saeId} AND f.idx = t.i`;
  }
  b = await seedRandomSae(t.app, { saeId: "m/b", n: 20, dIn: 6, seed: 2 });
  // Features 0..9 have examples; those with an even index fired (positive max).
  await p.$executeRaw`
    INSERT INTO activation (sae_id, feature_idx, ordinal, tokens, "values", max_value, max_token_index, text)
    SELECT 'm/b', f, o, ARRAY['x'], ARRAY[CASE WHEN f % 2 = 0 THEN 1.5 ELSE 0 END]::real[],
           CASE WHEN f % 2 = 0 THEN 1.5 ELSE 0 END, 0, 'x'
    FROM generate_series(0, 9) AS f, generate_series(0, 1) AS o`;
  c = await seedRandomSae(t.app, { saeId: "m/c", n: 5, dIn: 6, seed: 3 });
  // A family of three sizes with lineage kinds as the lineage builder writes them.
  for (const [j, n] of sizes.entries()) {
    await seedRandomSae(t.app, {
      saeId: `${fam}/${n}`,
      familyId: fam,
      n,
      dIn: 6,
      seed: 10 + j,
      density: (i) => (i === 1 ? null : Math.fround(0.01 / (1 + i + j))),
    });
  }
  await p.$executeRaw`UPDATE feature SET
      split_kind = CASE WHEN sae_id = 'fam/32' THEN 'LARGEST' WHEN idx % 3 = 0 THEN 'STABLE' WHEN idx % 3 = 1 THEN 'SPLIT' ELSE 'VANISHED' END,
      origin_kind = CASE WHEN sae_id = 'fam/8' THEN 'SMALLEST' WHEN idx % 4 = 0 THEN 'NOVEL' ELSE 'INHERITED' END
    WHERE sae_id LIKE 'fam/%' AND NOT (sae_id = 'fam/16' AND idx = 15)`;
});
afterAll(async () => t?.close());

const q = (query: string, variables?: Record<string, unknown>) => executeQuery(t.app, query, variables);

describe("SaeStats", () => {
  it("answers every SAE of a response from one statement per statistic", async () => {
    const before = t.app.db.stats.statements;
    const r = await q(`{ saes { id stats {
      deadFraction medianDensity neuronAlignedFraction a5: neuronAlignedFraction(threshold: 0.5)
      neuronCorrelatedFraction c0: neuronCorrelatedFraction(threshold: 0) } } }`);
    expect(r.errors).toBeUndefined();
    const used = t.app.db.stats.statements - before;
    const stats = Object.fromEntries((r.data as any).saes.map((s: any) => [s.id, s.stats]));

    // A: dead = density 0 among features with a known density; median over known densities.
    const known = a.density.filter((d): d is number => d !== null);
    expect(stats["m/a"].deadFraction).toBeCloseTo(known.filter((d) => d === 0).length / known.length, 10);
    expect(stats["m/a"].medianDensity).toBeCloseTo(median(known)!, 8);
    const cos = a.decoder.map(bestAbsCos);
    expect(stats["m/a"].neuronAlignedFraction).toBeCloseTo(frac(cos.filter((x) => x >= 0.3).length, cos.length)!, 10);
    expect(stats["m/a"].a5).toBeCloseTo(frac(cos.filter((x) => x >= 0.5).length, cos.length)!, 10);
    const corr = a.neuronCorr.filter((x): x is number => x !== null);
    expect(stats["m/a"].neuronCorrelatedFraction).toBeCloseTo(frac(corr.filter((x) => x >= 0.3).length, corr.length)!, 10);
    expect(stats["m/a"].c0).toBeCloseTo(frac(corr.filter((x) => x >= 0).length, corr.length)!, 10);

    // B: no densities, so dead = no example with a positive value (15 of 20: odd 0..9 and all of 10..19).
    expect(stats["m/b"].deadFraction).toBeCloseTo(15 / 20, 10);
    expect(stats["m/b"].medianDensity).toBeNull();
    expect(stats["m/b"].neuronCorrelatedFraction).toBeNull();
    expect(stats["m/b"].neuronAlignedFraction).toBeNull();

    // C: nothing known.
    expect(stats["m/c"]).toEqual({ deadFraction: null, medianDensity: null, neuronAlignedFraction: null, a5: null, neuronCorrelatedFraction: null, c0: null });

    // saes (1) + base (1) + aligned x2 + correlated x2 thresholds, whatever the number of SAEs.
    expect(used).toBeLessThanOrEqual(6 + 2);
  });

  it("rejects a threshold outside [-1, 1]", async () => {
    const r = await q(`{ sae(id: "m/a") { stats { neuronAlignedFraction(threshold: 1.5) } } }`);
    expect((r.errors as any[])[0].extensions.code).toBe("BAD_USER_INPUT");
    expect((r.errors as any[])[0].message).toMatch(/threshold must be a number between -1 and 1/);
  });
});

describe("SaeFamily.scaling", () => {
  it("counts split and origin kinds per size and compares NOVEL with INHERITED density", async () => {
    const r = await q(`{ families { id scaling {
      sae { id } dSae featureCount stable split vanished inherited novel unclassified
      deadFraction medianDensity medianDensityNovel medianDensityInherited } } }`);
    expect(r.errors).toBeUndefined();
    const rows = (r.data as any).families.find((f: any) => f.id === fam).scaling;
    expect(rows.map((x: any) => x.dSae)).toEqual(sizes);
    for (const [j, n] of sizes.entries()) {
      const row = rows[j];
      // Brute force from the same rules the UPDATE above applied.
      const idx = Array.from({ length: n }, (_, i) => i).filter((i) => !(n === 16 && i === 15));
      const density = (i: number) => (i === 1 ? null : Math.fround(0.01 / (1 + i + j)));
      const largest = n === 32, smallest = n === 8;
      const novel = smallest ? [] : idx.filter((i) => i % 4 === 0);
      const inherited = smallest ? [] : idx.filter((i) => i % 4 !== 0);
      const dens = (ids: number[]) => ids.map(density).filter((d): d is number => d !== null);
      expect(row).toEqual({
        sae: { id: `${fam}/${n}` },
        dSae: n,
        featureCount: n,
        stable: largest ? 0 : idx.filter((i) => i % 3 === 0).length,
        split: largest ? 0 : idx.filter((i) => i % 3 === 1).length,
        vanished: largest ? 0 : idx.filter((i) => i % 3 === 2).length,
        inherited: inherited.length,
        novel: novel.length,
        unclassified: n - idx.length,
        deadFraction: 0,
        medianDensity: expect.closeTo(median(dens(Array.from({ length: n }, (_, i) => i)))!, 8),
        medianDensityNovel: novel.length ? expect.closeTo(median(dens(novel))!, 8) : null,
        medianDensityInherited: inherited.length ? expect.closeTo(median(dens(inherited))!, 8) : null,
      });
    }
  });
});
