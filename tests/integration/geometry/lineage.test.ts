// Split lineage on both backends: a family with planted splits is ingested (the post-ingest
// hook builds the lineage); stored edges and node kinds must equal a brute-force computation
// over the stored decoders, and the GraphQL fields must read them back.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateDecoders, planFamily, plantedLineage } from "../../../scripts/bench/generator.ts";
import { parseVectorLiteral } from "../../../src/db/vector.ts";
import { executeQuery } from "../../../src/graphql/execute.ts";
import { openTestApp, type TestApp } from "../../helpers/backend.ts";
import { ingestDecoders } from "../../helpers/geometry-seed.ts";

let t: TestApp;
const fam = "lin";
const sizes = [120, 300, 700];
const d = 32;
const ids = sizes.map((n) => `${fam}/${n}`);
const plans = planFamily({ sizes, d, seed: 5 });

beforeAll(async () => {
  t = await openTestApp();
  for (const [i, p] of plans.entries()) {
    await ingestDecoders(t.app, { modelId: "lin-model", saeId: ids[i], familyId: fam, d, raw: generateDecoders(p), n: p.n });
  }
}, 600_000); // other post-ingest hooks (UMAP) run too
afterAll(async () => t?.close());

/** Stored (halfvec) decoders as unit float64 rows: brute force runs on exactly what the builder reads. */
async function storedUnitRows(saeId: string, n: number): Promise<Float64Array[]> {
  const rows = await t.app.db.prisma.$queryRaw<{ idx: number; v: string }[]>`
    SELECT idx, decoder::text AS v FROM feature WHERE sae_id = ${saeId} ORDER BY idx`;
  const out: Float64Array[] = new Array(n);
  for (const r of rows) {
    const v = Float64Array.from(parseVectorLiteral(r.v));
    const norm = Math.hypot(...v);
    out[r.idx] = v.map((x) => x / norm);
  }
  return out;
}

interface Edge {
  parent: number;
  child: number;
  cosine: number;
  rank: number;
}

/** The builder's rules, by brute force: parents >= threshold (max 4), best one kept from 0.5. */
function bruteEdges(small: Float64Array[], large: Float64Array[], threshold = 0.5, perChild = 4): Edge[] {
  const out: Edge[] = [];
  large.forEach((c, ci) => {
    const scored = small.map((p, pi) => ({ pi, cos: p.reduce((s, x, j) => s + x * c[j], 0) })).sort((a, b) => b.cos - a.cos);
    for (let r = 0; r < perChild; r++) {
      const { pi, cos } = scored[r];
      if (!(cos >= threshold || (r === 0 && cos >= Math.min(threshold, 0.5)))) break;
      out.push({ parent: pi, child: ci, cosine: cos, rank: r });
    }
  });
  return out;
}

describe("split lineage", () => {
  it("stores exactly the brute-force best parents and kinds for every consecutive pair", async () => {
    const fam0 = await t.app.db.prisma.saeFamily.findUnique({ where: { id: fam } });
    expect(fam0?.lineageStale).toBe(false);
    expect(fam0?.lineageBuiltAt).toBeInstanceOf(Date);
    const unit = await Promise.all(ids.map((id, i) => storedUnitRows(id, sizes[i])));
    const kinds = await t.app.db.prisma.feature.findMany({
      where: { saeId: { in: ids } },
      select: { saeId: true, index: true, splitKind: true, originKind: true },
    });
    const kindOf = new Map(kinds.map((k) => [`${k.saeId}:${k.index}`, k]));
    for (let i = 0; i + 1 < ids.length; i++) {
      const want = bruteEdges(unit[i], unit[i + 1]);
      const got = await t.app.db.prisma.lineageEdge.findMany({
        where: { familyId: fam, parentSaeId: ids[i], childSaeId: ids[i + 1] },
        orderBy: [{ childIndex: "asc" }, { rank: "asc" }],
      });
      expect(got.map((e) => [e.childIndex, e.rank, e.parentIndex])).toEqual(
        [...want].sort((a, b) => a.child - b.child || a.rank - b.rank).map((e) => [e.child, e.rank, e.parent]),
      );
      const wantCos = new Map(want.map((e) => [`${e.parent}:${e.child}`, e.cosine]));
      for (const e of got) expect(Math.abs(e.cosine - wantCos.get(`${e.parentIndex}:${e.childIndex}`)!)).toBeLessThan(1e-5);
      // Kinds: children at or above the threshold per parent; origin from the best parent.
      const children = new Array(sizes[i]).fill(0);
      for (const e of want) if (e.cosine >= 0.5) children[e.parent]++;
      for (let p = 0; p < sizes[i]; p++) {
        const k = children[p] === 0 ? "VANISHED" : children[p] === 1 ? "STABLE" : "SPLIT";
        expect(kindOf.get(`${ids[i]}:${p}`)?.splitKind).toBe(k);
      }
      const best = new Map(want.filter((e) => e.rank === 0).map((e) => [e.child, e.cosine]));
      for (let c = 0; c < sizes[i + 1]; c++) {
        expect(kindOf.get(`${ids[i + 1]}:${c}`)?.originKind).toBe((best.get(c) ?? 0) >= 0.5 ? "INHERITED" : "NOVEL");
      }
    }
    expect(kinds.filter((k) => k.saeId === ids[0]).every((k) => k.originKind === "SMALLEST")).toBe(true);
    expect(kinds.filter((k) => k.saeId === ids[2]).every((k) => k.splitKind === "LARGEST")).toBe(true);
  });

  it("recovers the planted parents", async () => {
    const { parentOf } = plantedLineage(plans[1]);
    const best = await t.app.db.prisma.lineageEdge.findMany({ where: { childSaeId: ids[1], rank: 0 } });
    const bestOf = new Map(best.map((e) => [e.childIndex, e.parentIndex]));
    let planted = 0;
    let found = 0;
    parentOf.forEach((p, c) => {
      if (p < 0) return;
      planted++;
      if (bestOf.get(c) === p) found++;
    });
    // d = 32 is noisy (random cosines ~0.18); most planted parents still come out on top.
    expect(found / planted).toBeGreaterThan(0.85);
  });

  it("a higher threshold keeps the best parent from 0.5 but classifies by the threshold", async () => {
    const svc = t.app.services.geometry.lineage;
    const summary = await svc.build(fam, { threshold: 0.9 });
    expect(summary.pairs).toHaveLength(2);
    const edges = await t.app.db.prisma.lineageEdge.findMany({ where: { childSaeId: ids[1] } });
    expect(edges.every((e) => e.cosine >= 0.9 || (e.rank === 0 && e.cosine >= 0.5))).toBe(true);
    expect(edges.some((e) => e.cosine < 0.9)).toBe(true);
    await expect(svc.build(fam, { threshold: 0 })).rejects.toThrow(/threshold/);
    await expect(svc.build("nope")).rejects.toThrow(/not found/);
    await svc.build(fam); // back to the defaults for the next tests
  });

  it("serves splitLineage, Feature.parents and Feature.children from the stored graph", async () => {
    const edge = await t.app.db.prisma.lineageEdge.findFirst({ where: { childSaeId: ids[1], rank: 0 }, orderBy: { cosine: "desc" } });
    const parent = { saeId: edge!.parentSaeId, index: edge!.parentIndex };
    const res = await executeQuery(
      t.app,
      `query($sae: ID!, $i: Int!, $csae: ID!, $c: Int!) {
        tree: splitLineage(saeId: $sae, index: $i, direction: DOWN, depth: 2) {
          split origin cosine feature { id }
          parents { feature { id } }
          children { cosine split origin feature { id } children { feature { id } } }
        }
        up: splitLineage(saeId: $csae, index: $c, direction: UP, depth: 1, minCosine: 0.5) { parents { cosine feature { id } } children { cosine } }
        child: feature(saeId: $csae, index: $c) { parents { cosine feature { id } } }
        par: feature(saeId: $sae, index: $i) { children { cosine feature { id } } }
      }`,
      { sae: parent.saeId, i: parent.index, csae: edge!.childSaeId, c: edge!.childIndex },
    );
    expect(res.errors).toBeUndefined();
    const data = res.data as any;
    const children = await t.app.db.prisma.lineageEdge.findMany({ where: { parentSaeId: parent.saeId, parentIndex: parent.index }, orderBy: { cosine: "desc" } });
    expect(data.tree.cosine).toBeNull();
    expect(data.tree.parents).toEqual([]);
    expect(data.tree.origin).toBe("SMALLEST");
    expect(data.tree.children.map((c: any) => c.feature.id)).toEqual(children.map((c) => `${c.childSaeId}:${c.childIndex}`));
    expect(data.par.children.map((c: any) => c.feature.id)).toEqual(children.map((c) => `${c.childSaeId}:${c.childIndex}`));
    expect(data.child.parents[0].feature.id).toBe(`${parent.saeId}:${parent.index}`);
    expect(data.child.parents[0].cosine).toBeCloseTo(edge!.cosine, 5);
    expect(data.up.parents[0].feature.id).toBe(`${parent.saeId}:${parent.index}`);
    expect(data.up.children).toEqual([]);
    const kids = await t.app.db.prisma.feature.findUnique({ where: { saeId_index: { saeId: parent.saeId, index: parent.index } } });
    expect(data.tree.split).toBe(kids?.splitKind);
  });

  it("stores co-activation (shared top examples) as the second signal, refreshed when examples arrive", async () => {
    // Even-indexed features get four top examples from a small vocabulary, so parents and
    // children share some; odd-indexed ones get none.
    const textsOf = (sae: number, i: number) => (i % 2 ? [] : [0, 1, 2, 3].map((e) => `w${(i * (sae + 2) + e * 7) % 40}`));
    for (const [j, saeId] of ids.entries()) {
      await t.app.services.ingest.mergeIntoSae(saeId, { source: { format: "native", path: "coact" }, contentHash: `coact-${saeId}` }, (sink) =>
        sink.activations(
          Array.from({ length: sizes[j] }, (_, i) => textsOf(j, i).map((w, e) => ({ index: i, tokens: [w], values: [4 - e], kind: "top" as const }))).flat(),
        ),
      );
    }
    // No rebuild: merging examples refreshes the co-activation of the stored edges (ingest hook).
    const edges = await t.app.db.prisma.lineageEdge.findMany({ where: { familyId: fam } });
    expect(edges.length).toBeGreaterThan(100);
    let shared = 0;
    for (const e of edges) {
      const p = new Set(textsOf(ids.indexOf(e.parentSaeId), e.parentIndex));
      const c = textsOf(ids.indexOf(e.childSaeId), e.childIndex);
      if (c.length === 0) {
        expect(e.coactivation).toBeNull();
        continue;
      }
      const want = c.filter((w) => p.has(w)).length / c.length;
      expect(e.coactivation).toBeCloseTo(want, 6);
      if (want > 0) shared++;
    }
    expect(shared).toBeGreaterThan(0);
    const e = edges.find((x) => x.coactivation !== null)!;
    const res = await executeQuery(
      t.app,
      `{ f: feature(saeId: "${e.childSaeId}", index: ${e.childIndex}) { parents { feature { id } cosine coactivation } } }`,
    );
    const parents = (res.data as { f: { parents: { feature: { id: string }; coactivation: number | null }[] } }).f.parents;
    expect(parents.find((x) => x.feature.id === `${e.parentSaeId}:${e.parentIndex}`)?.coactivation).toBeCloseTo(e.coactivation!, 6);
  });

  it("reports an unbuilt family instead of guessing", async () => {
    const p = t.app.db.prisma;
    await p.$executeRaw`INSERT INTO sae_family (id, name, model_id) VALUES ('unbuilt', 'unbuilt', 'lin-model')`;
    await p.$executeRaw`INSERT INTO sae (id, name, model_id, family_id, architecture, d_in, d_sae, status) VALUES ('unbuilt/1', 'u', 'lin-model', 'unbuilt', 'standard', 32, 1, 'ready')`;
    await p.$executeRaw`INSERT INTO feature (sae_id, idx) VALUES ('unbuilt/1', 0)`;
    const res = await executeQuery(t.app, `{ splitLineage(saeId: "unbuilt/1", index: 0) { split } missing: splitLineage(saeId: "unbuilt/1", index: 5) { split } }`);
    const err = (res.errors ?? [])[0] as { message: string; extensions: { code: string } };
    expect(err.extensions.code).toBe("CONFLICT");
    expect(err.message).toMatch(/monoscope lineage build --family unbuilt/);
  });
});
