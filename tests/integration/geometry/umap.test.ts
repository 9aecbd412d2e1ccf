// Feature.umap on both backends: the map is stored for every feature with a decoder,
// deterministic for a seed, keeps clusters of decoder directions together (checked against a
// brute-force cosine clustering here), is built by the ingest hook for small SAEs and skipped
// with instructions for large ones.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { executeQuery } from "../../../src/graphql/execute.ts";
import type { Logger } from "../../../src/logger.ts";
import { GeometryRepository } from "../../../src/modules/geometry/geometry.repository.ts";
import { UmapRepository } from "../../../src/modules/geometry/umap.repository.ts";
import { umapMapsStep } from "../../../src/demo/maps-step.ts";
import { UmapService } from "../../../src/modules/geometry/umap.service.ts";
import { openTestApp, type TestApp } from "../../helpers/backend.ts";
import { rng } from "../../helpers/feature-seed.ts";

const D = 16;
const CLUSTERS = 4;
const N = 120;
let t: TestApp;

/** Decoder rows in CLUSTERS tight cones around random centres; returns each row's cluster. */
function clusteredRows(seed: number, n: number) {
  const r = rng(seed);
  const g = () => Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
  const centres = Array.from({ length: CLUSTERS }, () => Array.from({ length: D }, g));
  const rows = Array.from({ length: n }, (_, i) => centres[i % CLUSTERS]!.map((c) => c + 0.25 * g()));
  return { rows, cluster: (i: number) => i % CLUSTERS };
}

async function ingestClustered(id: string, n: number, extra: { index: number }[] = []) {
  const { rows } = clusteredRows(3, n);
  await t.app.services.ingest.ingestSae(
    { model: { id: "umap-model" }, sae: { id, architecture: "standard", dIn: D, dSae: n + extra.length }, source: { format: "test", path: id }, contentHash: id },
    async (sink) => sink.features([...rows.map((decoder, index) => ({ index, decoder })), ...extra]),
  );
}

async function stored(saeId: string) {
  return t.app.db.prisma.$queryRaw<{ idx: number; x: number | null; y: number | null }[]>`
    SELECT idx, umap_x AS x, umap_y AS y FROM feature WHERE sae_id = ${saeId} ORDER BY idx`;
}

beforeAll(async () => {
  t = await openTestApp();
  // The ingest hook maps it (N <= 20k); feature N has no decoder.
  await ingestClustered("umap/a", N, [{ index: N }]);
});
afterAll(async () => t?.close());

describe("UMAP maps", () => {
  it("are stored by the ingest hook for every feature with a decoder, and served as Feature.umap", async () => {
    const rows = await stored("umap/a");
    expect(rows.slice(0, N).every((r) => Number.isFinite(r.x) && Number.isFinite(r.y))).toBe(true);
    expect(rows[N]).toEqual({ idx: N, x: null, y: null });
    const r = await executeQuery(t.app, `{ a: feature(saeId: "umap/a", index: 3) { umap { x y } } b: feature(saeId: "umap/a", index: ${N}) { umap { x y } } }`);
    expect(r.errors).toBeUndefined();
    expect((r.data as any).a.umap).toEqual({ x: expect.closeTo(rows[3]!.x!, 5), y: expect.closeTo(rows[3]!.y!, 5) });
    expect((r.data as any).b.umap).toBeNull();
  });

  it("keep clusters of decoder directions together (2-D nearest neighbour in the same cosine cluster)", async () => {
    const { rows: dec, cluster } = clusteredRows(3, N);
    // Brute force: the clusters are what exact cosine nearest neighbours say they are.
    const cos = (a: number[], b: number[]) => a.reduce((s, v, j) => s + v * b[j]!, 0) / Math.hypot(...a) / Math.hypot(...b);
    const nnCluster = dec.map((a, i) => {
      let best = -1, bestCos = -2;
      dec.forEach((b, j) => { if (j !== i && cos(a, b) > bestCos) { bestCos = cos(a, b); best = j; } });
      return cluster(best);
    });
    expect(nnCluster.filter((c, i) => c === cluster(i)).length).toBe(N);
    const pts = (await stored("umap/a")).slice(0, N);
    const same = pts.filter((p, i) => {
      let best = -1, bestD = Infinity;
      pts.forEach((q, j) => { const d = (p.x! - q.x!) ** 2 + (p.y! - q.y!) ** 2; if (j !== i && d < bestD) { bestD = d; best = j; } });
      return cluster(best) === cluster(i);
    }).length;
    expect(same / N).toBeGreaterThanOrEqual(0.95);
  });

  it("are deterministic for a seed and change with it", async () => {
    const umap = t.app.services.umap;
    await umap.build("umap/a", { seed: 7, nEpochs: 60 });
    const first = await stored("umap/a");
    await umap.build("umap/a", { seed: 7, nEpochs: 60 });
    expect(await stored("umap/a")).toEqual(first);
    await umap.build("umap/a", { seed: 8, nEpochs: 60 });
    expect(await stored("umap/a")).not.toEqual(first);
  });

  it("skip SAEs above 20k features after ingest, saying how to map them", async () => {
    const lines: string[] = [];
    const log: Logger = { debug() {}, info: (m) => lines.push(m), warn: (m) => lines.push(m), error: (m) => lines.push(m) };
    await t.app.db.prisma.$executeRaw`UPDATE sae SET d_sae = 25000 WHERE id = 'umap/a'`;
    const svc = new UmapService(new UmapRepository(t.app.db), new GeometryRepository(t.app.db), t.app.services.geometry.kernel, log);
    await svc.onSaeReady("umap/a");
    expect(lines).toEqual(["SAE umap/a: 25000 features, more than 20000 to map after ingest; run `monoscope map --sae umap/a` to compute its 2-D map"]);
    await t.app.db.prisma.$executeRaw`UPDATE sae SET d_sae = ${N + 1} WHERE id = 'umap/a'`;
  });

  it("the demo step keeps a complete map and rebuilds a missing one", async () => {
    const ctx = { app: t.app, saes: [{ id: "umap/a" }] };
    expect(await umapMapsStep.run({ services: ctx.app.services, saes: ctx.saes })).toBe("UMAP maps: umap/a (kept)");
    await t.app.db.prisma.$executeRaw`UPDATE feature SET umap_x = NULL, umap_y = NULL WHERE sae_id = 'umap/a' AND idx < 5`;
    expect(await t.app.services.umap.unmapped("umap/a")).toBe(5);
    expect(await umapMapsStep.run({ services: ctx.app.services, saes: ctx.saes })).toMatch(/^UMAP maps: umap\/a: 120 features in [\d.]+ s$/);
    expect(await t.app.services.umap.unmapped("umap/a")).toBe(0);
  });

  it("NOT_FOUND for an unknown SAE", async () => {
    await expect(t.app.services.umap.build("umap/missing")).rejects.toMatchObject({ code: "NOT_FOUND" });
  });
});
