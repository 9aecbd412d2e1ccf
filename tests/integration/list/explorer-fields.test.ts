// The fields the explorer's pages read, on both backends: Feature.splitKind / originKind on a
// family with planted splits (built by the real lineage builder), and SaeStats.densityHistogram
// checked against counts recomputed here from the stored densities.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { executeQuery } from "../../../src/graphql/execute.ts";
import { openTestApp, type TestApp } from "../../helpers/backend.ts";
import { seedFeatures } from "../../helpers/feature-seed.ts";
import { ingestDecoders } from "../../helpers/geometry-seed.ts";

const D = 8;
let t: TestApp;

const basis = (i: number, scale = 1) => Array.from({ length: D }, (_, j) => (j === i ? scale : 0));
const plus = (a: number[], b: number[]) => a.map((x, j) => x + b[j]!);

beforeAll(async () => {
  t = await openTestApp();
  // Small: e0..e3. Large: e0 once (STABLE), e1 twice (SPLIT), e2 never (VANISHED), e3 once,
  // and e4..e7, orthogonal to every small feature (NOVEL).
  const small = [0, 1, 2, 3].map((i) => basis(i));
  const large = [basis(0), plus(basis(1), basis(5, 0.4)), plus(basis(1), basis(5, -0.4)), basis(3), basis(4), basis(5), basis(6), basis(7)];
  for (const [name, rows] of [["s", small], ["l", large]] as const) {
    await ingestDecoders(t.app, { modelId: "fam-model", saeId: `fam/${name}`, familyId: "fam", d: D, raw: Float32Array.from(rows.flat()), n: rows.length });
  }
  await t.app.services.geometry.lineage.build("fam", { threshold: 0.5, parentsPerChild: 4 });
  await seedFeatures(t.app, { saeId: "test-model/loose", n: 3, examples: 0 });
  // A family whose lineage was never built.
  await seedFeatures(t.app, { saeId: "test-model/unbuilt", n: 2, examples: 0 });
  await t.app.db.prisma.$executeRaw`INSERT INTO sae_family (id, name, model_id) VALUES ('unbuilt', 'unbuilt', 'test-model')`;
  await t.app.db.prisma.$executeRaw`UPDATE sae SET family_id = 'unbuilt' WHERE id = 'test-model/unbuilt'`;
});
afterAll(async () => t?.close());

const q = (query: string, variables?: Record<string, unknown>) => executeQuery(t.app, query, variables);
const data = (r: { data?: unknown; errors?: readonly unknown[] }) => {
  expect(r.errors).toBeUndefined();
  return r.data as any;
};
const kinds = async (saeId: string) =>
  data(await q(`query($s: ID!) { features(saeId: $s, first: 20) { edges { node { index splitKind originKind } } } }`, { s: saeId })).features.edges.map(
    (e: any) => [e.node.index, e.node.splitKind, e.node.originKind],
  );

describe("Feature.splitKind / originKind", () => {
  it("reports the planted splits of a built family", async () => {
    expect(await kinds("fam/s")).toEqual([
      [0, "STABLE", "SMALLEST"],
      [1, "SPLIT", "SMALLEST"],
      [2, "VANISHED", "SMALLEST"],
      [3, "STABLE", "SMALLEST"],
    ]);
    expect(await kinds("fam/l")).toEqual([
      [0, "LARGEST", "INHERITED"],
      [1, "LARGEST", "INHERITED"],
      [2, "LARGEST", "INHERITED"],
      [3, "LARGEST", "INHERITED"],
      [4, "LARGEST", "NOVEL"],
      [5, "LARGEST", "NOVEL"],
      [6, "LARGEST", "NOVEL"],
      [7, "LARGEST", "NOVEL"],
    ]);
  });

  it("agrees with the splitLineage tree", async () => {
    const r = data(await q(`{ splitLineage(saeId: "fam/s", index: 1, direction: DOWN, depth: 1) { split origin feature { splitKind originKind } children { split origin feature { index splitKind originKind } } } }`));
    const n = r.splitLineage;
    expect([n.feature.splitKind, n.feature.originKind]).toEqual([n.split, n.origin]);
    expect(n.children.map((c: any) => c.feature.index).sort()).toEqual([1, 2]);
    for (const c of n.children) expect([c.feature.splitKind, c.feature.originKind]).toEqual([c.split, c.origin]);
  });

  it("is LARGEST/SMALLEST outside a family and null while the family's lineage is not built", async () => {
    expect(await kinds("test-model/loose")).toEqual([
      [0, "LARGEST", "SMALLEST"],
      [1, "LARGEST", "SMALLEST"],
      [2, "LARGEST", "SMALLEST"],
    ]);
    // The tree refuses (CONFLICT) until the lineage is built; the plain fields just say "unknown".
    expect(await kinds("test-model/unbuilt")).toEqual([
      [0, null, null],
      [1, null, null],
    ]);
  });
});

describe("SaeStats.densityHistogram", () => {
  const HIST = `query($s: ID!, $b: Int) { sae(id: $s) { stats { densityHistogram(bins: $b) { deadCount unknownCount bins { log10Min log10Max count } } } } }`;

  it("bins log10(density) between the lowest and highest positive density", async () => {
    await seedFeatures(t.app, { saeId: "test-model/dens", n: 40, examples: 0 });
    await t.app.db.prisma.$executeRaw`UPDATE feature SET density = 0 WHERE sae_id = 'test-model/dens' AND idx IN (0, 10)`;
    const stored = await t.app.db.prisma.$queryRaw<{ density: number | null }[]>`SELECT density FROM feature WHERE sae_id = 'test-model/dens'`;
    const logs = stored.filter((r) => r.density !== null && r.density > 0).map((r) => Math.log10(r.density!));
    const [lo, hi] = [Math.min(...logs), Math.max(...logs)];
    const bins = 7;
    const want = new Array(bins).fill(0);
    for (const x of logs) want[Math.min(bins - 1, Math.floor(((x - lo) / (hi - lo)) * bins))]++;

    const h = data(await q(HIST, { s: "test-model/dens", b: bins })).sae.stats.densityHistogram;
    expect(h.deadCount).toBe(2);
    expect(h.unknownCount).toBe(stored.filter((r) => r.density === null).length);
    expect(h.unknownCount).toBeGreaterThan(0);
    expect(h.bins.map((b: any) => b.count)).toEqual(want);
    expect(h.bins.reduce((s: number, b: any) => s + b.count, 0) + h.deadCount + h.unknownCount).toBe(40);
    expect(h.bins[0].log10Min).toBeCloseTo(lo, 5);
    expect(h.bins[bins - 1].log10Max).toBeCloseTo(hi, 5);
    for (let i = 1; i < bins; i++) expect(h.bins[i].log10Min).toBeCloseTo(h.bins[i - 1].log10Max, 9);
    // The default is 50 bins.
    expect(data(await q(HIST, { s: "test-model/dens" })).sae.stats.densityHistogram.bins).toHaveLength(50);
  });

  it("is null without densities, one bin when all are equal, and refuses bad bins", async () => {
    // ingestDecoders stores no densities.
    expect(data(await q(HIST, { s: "fam/s", b: 5 })).sae.stats.densityHistogram).toBeNull();
    await t.app.db.prisma.$executeRaw`UPDATE feature SET density = 0.01 WHERE sae_id = 'fam/l'`;
    const h = data(await q(HIST, { s: "fam/l", b: 5 })).sae.stats.densityHistogram;
    expect(h).toEqual({ deadCount: 0, unknownCount: 0, bins: [{ log10Min: expect.closeTo(-2, 5), log10Max: expect.closeTo(-2, 5), count: 8 }] });
    for (const b of [0, 201]) {
      const r = await q(HIST, { s: "fam/l", b });
      expect((r.errors?.[0] as any)?.extensions?.code).toBe("BAD_USER_INPUT");
      expect((r.errors?.[0] as any)?.message).toMatch(/bins must be an integer between 1 and 200/);
    }
  });
});
