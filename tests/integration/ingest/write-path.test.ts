// The shared write path (IngestService) on both backends: visibility, atomicity,
// idempotence, conflicts, merges, removal and post-ingest steps.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { IngestService } from "../../../src/ingest/ingest.service.ts";
import type { SaeArtifact } from "../../../src/ingest/ingest.types.ts";
import { openTestApp, type TestApp } from "../../helpers/backend.ts";
import { rawQuery, rowCounts } from "../../helpers/row-counts.ts";

let t: TestApp;
let ingest: IngestService;
const hookCalls: string[] = [];

function artifact(id: string, over: Partial<SaeArtifact["sae"]> = {}, hash = `h-${id}`, model = "toy-model"): SaeArtifact {
  return {
    model: { id: model },
    family: { id: `${model}-fam` },
    sae: { id, architecture: "standard", dIn: 4, dSae: 5, ...over },
    source: { format: "test", path: `/tmp/${id}` },
    contentHash: hash,
  };
}

beforeAll(async () => {
  t = await openTestApp();
  ingest = t.app.services.ingest;
  t.app.services.steps.register({
    name: "test-probe",
    on: ["ready", "updated"],
    run: async (id) => void hookCalls.push(id),
  });
});
afterAll(async () => {
  await t.close();
});

const visible = async () => (await t.app.services.sae.saes({})).map((s) => s.id);

describe("IngestService write path", () => {
  it("loads an SAE invisibly, then flips it to ready with normalised decoders", async () => {
    let seenDuringLoad: string[] = ["?"];
    const s = await ingest.ingestSae(artifact("a"), async (sink) => {
      await sink.features([
        { index: 0, decoder: [3, 0, 4, 0], encoder: [1, 2, 3, 4], bEnc: 0.5, density: 0.01, maxActivation: 2 },
        { index: 1, decoder: [0, -2, 0, 0], threshold: 0.1 },
        { index: 2, decoder: [0, 0, 0, 0] },
      ]);
      seenDuringLoad = await visible();
      await sink.activations([
        { index: 0, tokens: ["a", " cat"], values: [0.5, 1.5] },
        { index: 0, tokens: ["x"], values: [0.1], kind: "quantile", binMin: 0, binMax: 0.5 },
        { index: 4, tokens: ["only", " mentioned"], values: [2, 1], source: "doc-1" },
      ]);
      await sink.explanations([{ index: 0, text: "cats" }]);
    });
    expect(seenDuringLoad).not.toContain("a");
    expect(s).toMatchObject({ saeId: "a", outcome: "created", features: 3, activations: 3, explanations: 1 });
    expect(await visible()).toContain("a");
    const f = await rawQuery<{ idx: number; d: string | null; decoder_norm: number; neuron_index: number; neuron_cosine: number }>(
      t.app.db,
      "SELECT idx, decoder::text AS d, decoder_norm, neuron_index, neuron_cosine FROM feature WHERE sae_id = 'a' ORDER BY idx",
    );
    expect(f.map((r) => r.idx)).toEqual([0, 1, 2, 4]); // 4 is a bare row for its activation
    expect(JSON.parse(f[0]!.d!)).toEqual([expect.closeTo(0.6, 3), 0, expect.closeTo(0.8, 3), 0]); // float16
    expect(f[0]).toMatchObject({ decoder_norm: 5, neuron_index: 2 });
    expect(f[0]!.neuron_cosine).toBeCloseTo(0.8, 5);
    expect(f[1]).toMatchObject({ d: "[0,-1,0,0]", decoder_norm: 2, neuron_index: 1, neuron_cosine: -1 });
    expect(f[2]).toMatchObject({ d: null, decoder_norm: 0 });
    const acts = await rawQuery<Record<string, unknown>>(
      t.app.db,
      "SELECT feature_idx, ordinal, tokens, values, max_value, max_token_index, kind, bin_min, bin_max, source, text FROM activation WHERE sae_id = 'a' ORDER BY feature_idx, ordinal",
    );
    expect(acts).toEqual([
      { feature_idx: 0, ordinal: 0, tokens: ["a", " cat"], values: [0.5, 1.5], max_value: 1.5, max_token_index: 1, kind: "top", bin_min: null, bin_max: null, source: null, text: "a cat" },
      { feature_idx: 0, ordinal: 1, tokens: ["x"], values: [0.10000000149011612], max_value: 0.10000000149011612, max_token_index: 0, kind: "quantile", bin_min: 0, bin_max: 0.5, source: null, text: "x" },
      { feature_idx: 4, ordinal: 0, tokens: ["only", " mentioned"], values: [2, 1], max_value: 2, max_token_index: 0, kind: "top", bin_min: null, bin_max: null, source: "doc-1", text: "only mentioned" },
    ].map((r) => ({ ...r, values: r.values.map((v) => expect.closeTo(v, 6)), max_value: expect.closeTo(r.max_value as number, 6) })));
    const ex = await rawQuery(t.app.db, "SELECT feature_idx, text, method FROM explanation WHERE sae_id = 'a'");
    expect(ex).toEqual([{ feature_idx: 0, text: "cats", method: "imported" }]);
    expect(hookCalls).toContain("a");
  });

  it("re-ingesting the same content is a no-op; different content needs --replace", async () => {
    const before = await rowCounts(t.app.db);
    const again = await ingest.ingestSae(artifact("a"), async () => {
      throw new Error("must not be called");
    });
    expect(again.outcome).toBe("skipped");
    await expect(ingest.ingestSae(artifact("a", {}, "other-hash"), async () => {})).rejects.toThrow(/already exists with different content.*--replace/);
    expect(await rowCounts(t.app.db)).toEqual(before);
    const r = await ingest.ingestSae(artifact("a", {}, "other-hash"), async (sink) => sink.features([{ index: 3, decoder: [1, 1, 1, 1] }]), { replace: true });
    expect(r.outcome).toBe("replaced");
    const n = await rawQuery<{ n: number }>(t.app.db, "SELECT count(*)::int AS n FROM feature WHERE sae_id = 'a'");
    expect(n[0]!.n).toBe(1);
  });

  it("rejects an SAE id of another model and a d_in mismatch without changing anything", async () => {
    const before = await rowCounts(t.app.db);
    await expect(ingest.ingestSae(artifact("a", {}, "x", "other-model"), async () => {})).rejects.toThrow(/already used by model "toy-model"/);
    await expect(ingest.ingestSae(artifact("b", { dIn: 8 }), async () => {})).rejects.toThrow(/d_in: model "toy-model" has d_model 4/);
    expect(await rowCounts(t.app.db)).toEqual(before);
  });

  it("a failure mid-stream removes everything the run wrote, including a new model and family", async () => {
    const before = await rowCounts(t.app.db);
    await expect(
      ingest.ingestSae(artifact("c", {}, "c", "fresh-model"), async (sink) => {
        await sink.features([{ index: 0, decoder: [1, 2, 3, 4] }]);
        await sink.activations([{ index: 0, tokens: ["a"], values: [1] }]);
        await sink.features([{ index: 1, decoder: [1, Number.NaN, 3, 4] }]);
      }),
    ).rejects.toThrow("/tmp/c: decoder[1]: value 1 is NaN");
    expect(await rowCounts(t.app.db)).toEqual(before);
    // The bulk path may skip per-row FK triggers while it loads; no connection keeps that setting.
    const roles = await Promise.all(Array.from({ length: 8 }, () => rawQuery<{ r: string }>(t.app.db, "SELECT current_setting('session_replication_role') AS r")));
    expect(new Set(roles.map((r) => r[0]!.r))).toEqual(new Set(["origin"]));
  });

  it("a leftover 'loading' SAE (killed run) is invisible and the next run completes it", async () => {
    await t.app.db.prisma.sae.create({
      data: { id: "d", name: "d", modelId: "toy-model", architecture: "standard", dIn: 4, dSae: 5, status: "loading", contentHash: "d" },
    });
    await rawQuery(t.app.db, "INSERT INTO feature (sae_id, idx) VALUES ('d', 0), ('d', 1)");
    expect(await visible()).not.toContain("d");
    const r = await ingest.ingestSae(artifact("d", {}, "d"), async (sink) => sink.features([{ index: 0, decoder: [1, 0, 0, 0] }]));
    expect(r.outcome).toBe("created");
    expect(await visible()).toContain("d");
    const n = await rawQuery<{ n: number }>(t.app.db, "SELECT count(*)::int AS n FROM feature WHERE sae_id = 'd'");
    expect(n[0]!.n).toBe(1);
  });

  it("merges activations and stats into a ready SAE in one transaction", async () => {
    await ingest.ingestSae(artifact("m"), async (sink) =>
      sink.features([0, 1, 2, 3, 4].map((index) => ({ index, decoder: [1, index, 0, 0], density: 0.5 }))),
    );
    const src = { source: { format: "native", path: "/tmp/acts.jsonl" }, contentHash: "acts-1" };
    const r = await ingest.mergeIntoSae("m", src, async (sink) => {
      await sink.features([{ index: 1, maxActivation: 9 }]);
      await sink.activations([
        { index: 1, tokens: ["p"], values: [9] },
        { index: 1, tokens: ["q"], values: [3] },
      ]);
    });
    expect(r).toMatchObject({ outcome: "merged", features: 1, activations: 2 });
    expect((await ingest.mergeIntoSae("m", src, async () => {})).outcome).toBe("skipped");
    await ingest.mergeIntoSae("m", { ...src, contentHash: "acts-2" }, async (sink) => sink.activations([{ index: 1, tokens: ["r"], values: [1] }]));
    const rows = await rawQuery<{ ordinal: number; text: string }>(t.app.db, "SELECT ordinal, text FROM activation WHERE sae_id = 'm' ORDER BY ordinal");
    expect(rows).toEqual([{ ordinal: 0, text: "p" }, { ordinal: 1, text: "q" }, { ordinal: 2, text: "r" }]);
    const f = await rawQuery<{ density: number; max_activation: number; decoder_norm: number }>(
      t.app.db,
      "SELECT density, max_activation, decoder_norm FROM feature WHERE sae_id = 'm' AND idx = 1",
    );
    expect(f[0]).toEqual({ density: 0.5, max_activation: 9, decoder_norm: expect.closeTo(Math.SQRT2, 5) });

    const before = await rowCounts(t.app.db);
    await expect(
      ingest.mergeIntoSae("m", { ...src, contentHash: "acts-3" }, async (sink) => {
        await sink.activations([{ index: 2, tokens: ["ok"], values: [1] }]);
        await sink.activations([{ index: 2, tokens: ["a", "b"], values: [1] }]);
      }),
    ).rejects.toThrow("/tmp/acts.jsonl: activation[feature 2].values: has 1 values for 2 tokens");
    expect(await rowCounts(t.app.db)).toEqual(before);
  });

  it("removes an SAE with everything hanging off it", async () => {
    const counts = await ingest.removeSae("m");
    expect(counts).toMatchObject({ sae: 1, feature: 5, activation: 3 });
    expect(await visible()).not.toContain("m");
    await expect(ingest.removeSae("m")).rejects.toThrow(/not found/);
  });
});
