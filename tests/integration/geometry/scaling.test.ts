// SaeFamily.scaling over a lineage built by the real builder (monoscope lineage build) on a
// family with planted splits, on both backends. The expected kinds are recomputed here by brute
// force from the stored decoder directions: every child's parents by exact cosine, the best
// `parents` at or above the threshold counting as links.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseVectorLiteral } from "../../../src/db/vector.ts";
import { executeQuery } from "../../../src/graphql/execute.ts";
import { openTestApp, type TestApp } from "../../helpers/backend.ts";
import { rng } from "../../helpers/feature-seed.ts";
import { median } from "../../helpers/random-sae.ts";

const D = 24;
const FAMILY = "plant";
const THRESHOLD = 0.5;
const PARENTS = 4;
let t: TestApp;

/** Sizes 32 -> 64 -> 128: each feature of a size continues as 0-3 noisy copies, plus novel random ones. */
function plantedFamily(seed: number) {
  const r = rng(seed);
  const g = () => Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
  const rand = () => Array.from({ length: D }, g);
  const near = (v: number[], noise: number) => v.map((x) => x + noise * g() * Math.hypot(...v) / Math.sqrt(D));
  const sizes: number[][][] = [Array.from({ length: 32 }, rand)];
  for (const n of [64, 128]) {
    const prev = sizes[sizes.length - 1]!;
    const next: number[][] = [];
    prev.forEach((p, i) => {
      const copies = i % 4; // 0: vanishes, 1: stable, 2-3: splits
      for (let c = 0; c < copies && next.length < n; c++) next.push(near(p, copies === 1 ? 0.3 : 0.8));
    });
    while (next.length < n) next.push(rand());
    sizes.push(next);
  }
  return sizes;
}

async function storedDecoders(saeId: string) {
  const rows = await t.app.db.prisma.$queryRaw<{ idx: number; d: string }[]>`
    SELECT idx, decoder::text AS d FROM feature WHERE sae_id = ${saeId} ORDER BY idx`;
  return rows.map((x) => Array.from(parseVectorLiteral(x.d)));
}

const cos = (a: number[], b: number[]) => a.reduce((s, v, j) => s + v * b[j]!, 0) / Math.hypot(...a) / Math.hypot(...b);
const density = (size: number, i: number) => Math.fround(0.02 / (1 + ((i * 7919 + size) % 97)));

beforeAll(async () => {
  t = await openTestApp();
  const sizes = plantedFamily(21);
  for (const rows of sizes) {
    const n = rows.length;
    await t.app.services.ingest.ingestSae(
      { model: { id: "plant-model" }, family: { id: FAMILY }, sae: { id: `${FAMILY}/${n}`, architecture: "standard", dIn: D, dSae: n }, source: { format: "test", path: String(n) }, contentHash: String(n) },
      async (sink) => sink.features(rows.map((decoder, index) => ({ index, decoder, density: density(n, index) }))),
    );
  }
  await t.app.services.geometry.lineage.build(FAMILY, { threshold: THRESHOLD, parentsPerChild: PARENTS });
});
afterAll(async () => t?.close());

describe("SaeFamily.scaling over a built lineage", () => {
  it("matches split/origin kinds recomputed by brute force from the stored decoders", async () => {
    const sizes = [32, 64, 128];
    const dec = await Promise.all(sizes.map((n) => storedDecoders(`${FAMILY}/${n}`)));
    const children = sizes.map((n) => new Array<number>(n).fill(0));
    const inherited = sizes.map((n) => new Array<boolean>(n).fill(false));
    for (let s = 1; s < sizes.length; s++) {
      dec[s]!.forEach((child, c) => {
        const ranked = dec[s - 1]!.map((p, i) => [cos(child, p), i] as const).sort((a, b) => b[0] - a[0]);
        const links = ranked.filter(([x]) => x >= THRESHOLD).slice(0, PARENTS);
        for (const [, p] of links) children[s - 1]![p]!++;
        inherited[s]![c] = links.length > 0;
      });
    }
    const r = await executeQuery(t.app, `{ families { id scaling { dSae featureCount stable split vanished inherited novel unclassified
      deadFraction medianDensity medianDensityNovel medianDensityInherited } } }`);
    expect(r.errors).toBeUndefined();
    const rows = (r.data as any).families.find((f: any) => f.id === FAMILY).scaling;
    const expected = sizes.map((n, s) => {
      const last = s === sizes.length - 1, first = s === 0;
      const idx = Array.from({ length: n }, (_, i) => i);
      const novel = first ? [] : idx.filter((i) => !inherited[s]![i]);
      const inh = first ? [] : idx.filter((i) => inherited[s]![i]);
      const dens = (ids: number[]) => (ids.length ? expect.closeTo(median(ids.map((i) => density(n, i)))!, 8) : null);
      return {
        dSae: n,
        featureCount: n,
        stable: last ? 0 : idx.filter((i) => children[s]![i] === 1).length,
        split: last ? 0 : idx.filter((i) => children[s]![i]! > 1).length,
        vanished: last ? 0 : idx.filter((i) => children[s]![i] === 0).length,
        inherited: inh.length,
        novel: novel.length,
        unclassified: 0,
        deadFraction: 0,
        medianDensity: dens(idx),
        medianDensityNovel: dens(novel),
        medianDensityInherited: dens(inh),
      };
    });
    expect(rows).toEqual(expected);
    // The plant worked: every kind occurs.
    expect(rows[0].stable * rows[0].split * rows[0].vanished * rows[1].novel * rows[1].inherited).toBeGreaterThan(0);
  });
});
