// SAEDashboard batches and Neuronpedia export directories, both backends; the
// export -> import round trip reproduces every row.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExportRepository } from "../../../src/ingest/export/export.repository.ts";
import { exportNeuronpedia } from "../../../src/ingest/export/export-neuronpedia.ts";
import { importNativeActivations } from "../../../src/ingest/native/import-activations.ts";
import { importNeuronpedia } from "../../../src/ingest/neuronpedia/import-neuronpedia.ts";
import { importSaelens } from "../../../src/ingest/saelens/import-saelens.ts";
import { openTestApp, type TestApp } from "../../helpers/backend.ts";
import { rawQuery, rowCounts } from "../../helpers/row-counts.ts";
import { writeCheckpoint } from "../../helpers/saelens-fixture.ts";

const REAL = join(import.meta.dirname, "..", "..", "fixtures", "saedashboard", "gpt2-small-0-res-jb-batch-0.json");
let t: TestApp;
const dir = mkdtempSync(join(tmpdir(), "monoscope-np-"));
beforeAll(async () => {
  t = await openTestApp();
});
afterAll(async () => {
  await t.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("ingest neuronpedia: SAEDashboard batch (real gpt2-small res-jb data)", () => {
  it("needs the dimensions when the batch has no vectors, and changes nothing without them", async () => {
    const before = await rowCounts(t.app.db);
    // Both missing options in one error, not one per run.
    await expect(importNeuronpedia(t.app.services.ingest, { path: REAL })).rejects.toThrow(/--d-in: required .*; --d-sae: required/);
    await expect(importNeuronpedia(t.app.services.ingest, { path: REAL, dIn: 768 })).rejects.toThrow(/--d-sae: required/);
    expect(await rowCounts(t.app.db)).toEqual(before);
  });

  it("stores features 0 and 1 with stats, dashboards and decoded activation records", async () => {
    const s = await importNeuronpedia(t.app.services.ingest, { path: REAL, dIn: 768, dSae: 24576 });
    expect(s).toMatchObject({ saeId: "gpt2-small/0-res-jb", outcome: "created", features: 2, activations: 73 });
    const sae = await t.app.db.prisma.sae.findUniqueOrThrow({ where: { id: "gpt2-small/0-res-jb" } });
    expect(sae).toMatchObject({ modelId: "gpt2-small", dIn: 768, dSae: 24576, layer: 0, neuronpediaId: "gpt2-small/0-res-jb", status: "ready" });
    const f = await rawQuery(
      t.app.db,
      `SELECT idx, decoder, density, max_activation, neuron_index, neuron_cosine, neuron_corr_index, neuron_corr_pearson
       FROM feature WHERE sae_id = 'gpt2-small/0-res-jb' ORDER BY idx`,
    );
    expect(f).toEqual([
      { idx: 0, decoder: null, density: expect.closeTo(0.0002, 6), max_activation: expect.closeTo(2.214, 5), neuron_index: 217, neuron_cosine: expect.closeTo(0.112, 5), neuron_corr_index: 14, neuron_corr_pearson: expect.closeTo(0.009, 5) },
      { idx: 1, decoder: null, density: 0, max_activation: 0, neuron_index: 5, neuron_cosine: expect.closeTo(0.08, 5), neuron_corr_index: 2, neuron_corr_pearson: 0 },
    ]);
    const d = await rawQuery<{ pos_logits: { token: string; value: number }[]; freq_histogram: unknown; logits_histogram: { values: number[] } }>(
      t.app.db,
      "SELECT pos_logits, freq_histogram, logits_histogram FROM feature_dashboard WHERE sae_id = 'gpt2-small/0-res-jb' ORDER BY idx",
    );
    expect(d[0]!.pos_logits[0]).toEqual({ token: " Brigade", value: 3.753 });
    expect(d[0]!.logits_histogram.values).toHaveLength(50);
    expect(d[1]!.freq_histogram).toBeNull(); // the dead feature has no activation histogram
    const kinds = await rawQuery<{ feature_idx: number; kind: string; n: number }>(
      t.app.db,
      "SELECT feature_idx, kind, count(*)::int AS n FROM activation WHERE sae_id = 'gpt2-small/0-res-jb' GROUP BY 1, 2 ORDER BY 1, 2",
    );
    expect(kinds).toEqual([
      { feature_idx: 0, kind: "quantile", n: 8 },
      { feature_idx: 0, kind: "top", n: 30 },
      { feature_idx: 1, kind: "quantile", n: 5 },
      { feature_idx: 1, kind: "top", n: 30 },
    ]);
    const [first] = await rawQuery<{ text: string; tokens: string[]; max_token_index: number; max_value: number; bin_min: number | null }>(
      t.app.db,
      "SELECT text, tokens, max_token_index, max_value, bin_min FROM activation WHERE sae_id = 'gpt2-small/0-res-jb' AND feature_idx = 0 AND ordinal = 0",
    );
    expect(first!.text).toContain("But there’s a sadder and more pointed response to Hillary’s reality brigade.");
    expect(first!.tokens[first!.max_token_index]).toBe(" brigade");
    expect(first!.max_value).toBeCloseTo(2.214, 3);
    expect(first!.bin_min).toBeNull();
    const [q] = await rawQuery<{ bin_min: number; bin_max: number }>(
      t.app.db,
      "SELECT bin_min, bin_max FROM activation WHERE sae_id = 'gpt2-small/0-res-jb' AND feature_idx = 0 AND kind = 'quantile' ORDER BY ordinal LIMIT 1",
    );
    expect(q).toEqual({ bin_min: expect.closeTo(1.771, 3), bin_max: expect.closeTo(2.214, 3) });
    expect((await importNeuronpedia(t.app.services.ingest, { path: REAL, dIn: 768, dSae: 24576 })).outcome).toBe("skipped");
  });
});

describe("ingest neuronpedia: a SAEDashboard output directory", () => {
  it("reads every batch-N.json in order", async () => {
    const out = join(dir, "saedashboard-out");
    mkdirSync(out, { recursive: true });
    const real = JSON.parse(readFileSync(REAL, "utf8")) as { features: { feature_index: number }[] };
    writeFileSync(join(out, "batch-0.json"), JSON.stringify(real));
    const shifted = { ...real, features: real.features.map((f) => ({ ...f, feature_index: f.feature_index + 128 })) };
    writeFileSync(join(out, "batch-1.json.gz"), gzipSync(JSON.stringify(shifted)));
    const s = await importNeuronpedia(t.app.services.ingest, { path: out, saeId: "sd-dir", dIn: 768, dSae: 24576 });
    expect(s).toMatchObject({ outcome: "created", features: 4, activations: 146 });
    const idx = await rawQuery<{ idx: number }>(t.app.db, "SELECT idx FROM feature WHERE sae_id = 'sd-dir' ORDER BY idx");
    expect(idx.map((r) => r.idx)).toEqual([0, 1, 128, 129]);
  });
});

describe("ingest neuronpedia: export directories", () => {
  it("reads Neuronpedia's own layout (gz and plain JSONL, vectors give d_in, source.jsonl gives d_sae)", async () => {
    const ex = join(dir, "np-export");
    for (const d of ["features", "activations", "explanations"]) mkdirSync(join(ex, d), { recursive: true });
    writeFileSync(join(ex, "source.jsonl"), JSON.stringify({ id: "5-res-test", modelId: "np-model", saelensConfig: JSON.stringify({ d_in: 3, d_sae: 10, hook_name: "blocks.5.hook_resid_post" }) }) + "\n");
    const feature = (i: number, vector: number[]) => ({ modelId: "np-model", layer: "5-res-test", index: String(i), maxActApprox: 1 + i, vector, frac_nonzero: 0.1 * i, pos_str: ["Ġyes"], pos_values: [0.5] });
    writeFileSync(join(ex, "features", "batch-0.jsonl.gz"), gzipSync([feature(0, [3, 0, 4]), feature(1, [0, 2, 0])].map((o) => JSON.stringify(o)).join("\n")));
    writeFileSync(join(ex, "features", "batch-1.jsonl"), JSON.stringify(feature(7, [1, 1, 1])) + "\n");
    writeFileSync(
      join(ex, "activations", "batch-0.jsonl"),
      [
        { index: "0", tokens: ["Ġhello", "Ġworld"], values: [0, 1], binMin: -1, binMax: 1, dataSource: "pile:12" },
        { index: "7", tokens: ["x"], values: [0.3], binMin: 0.2, binMax: 0.4, binContains: 0.1 },
      ]
        .map((o) => JSON.stringify(o))
        .join("\n"),
    );
    writeFileSync(
      join(ex, "explanations", "batch-0.jsonl.gz"),
      gzipSync(JSON.stringify({ index: "0", description: "greetings", typeName: "oai_token-act-pair", explanationModelName: "gpt-4o-mini" }) + "\n" + JSON.stringify({ index: "1", description: "" })),
    );
    const s = await importNeuronpedia(t.app.services.ingest, { path: ex });
    expect(s).toMatchObject({ saeId: "np-model/5-res-test", features: 3, activations: 2, explanations: 1 });
    const sae = await t.app.db.prisma.sae.findUniqueOrThrow({ where: { id: "np-model/5-res-test" } });
    expect(sae).toMatchObject({ dIn: 3, dSae: 10, layer: 5, hookName: "blocks.5.hook_resid_post" });
    const f = await rawQuery(t.app.db, "SELECT idx, decoder::text AS d, decoder_norm, density, max_activation FROM feature WHERE sae_id = 'np-model/5-res-test' ORDER BY idx");
    expect(f).toEqual([
      { idx: 0, d: expect.stringMatching(/^\[0\.6\d*,0,0\.7998\d*\]$/), decoder_norm: 5, density: 0, max_activation: 1 },
      { idx: 1, d: "[0,1,0]", decoder_norm: 2, density: expect.closeTo(0.1, 6), max_activation: 2 },
      { idx: 7, d: expect.stringMatching(/^\[0\.577/), decoder_norm: expect.closeTo(Math.sqrt(3), 5), density: expect.closeTo(0.7, 6), max_activation: 8 },
    ]);
    const a = await rawQuery(t.app.db, "SELECT feature_idx, tokens, text, kind, bin_min, source FROM activation WHERE sae_id = 'np-model/5-res-test' ORDER BY feature_idx");
    expect(a).toEqual([
      { feature_idx: 0, tokens: [" hello", " world"], text: " hello world", kind: "top", bin_min: null, source: "pile:12" },
      { feature_idx: 7, tokens: ["x"], text: "x", kind: "quantile", bin_min: expect.closeTo(0.2, 6), source: null },
    ]);
    const e = await rawQuery(t.app.db, "SELECT feature_idx, text, method, prompt_version, explainer_model FROM explanation WHERE sae_id = 'np-model/5-res-test'");
    expect(e).toEqual([{ feature_idx: 0, text: "greetings", method: "imported", prompt_version: "oai_token-act-pair", explainer_model: "gpt-4o-mini" }]);
    const d = await rawQuery<{ pos_logits: unknown }>(t.app.db, "SELECT pos_logits FROM feature_dashboard WHERE sae_id = 'np-model/5-res-test' AND idx = 0");
    expect(d[0]!.pos_logits).toEqual([{ token: " yes", value: 0.5 }]);
  });

  it("merges dashboards into an SAE that already holds weights, then round-trips export -> import", async () => {
    const ck = join(dir, "ck");
    await writeCheckpoint(ck, { dIn: 768, dSae: 64, sparsity: true });
    await importSaelens(t.app.services.ingest, { dir: ck, saeId: "rt-src", modelId: "gpt2-small", modelDim: 768 });
    const decoderBefore = await rawQuery(t.app.db, "SELECT decoder::text AS d FROM feature WHERE sae_id = 'rt-src' AND idx = 0");
    const m = await importNeuronpedia(t.app.services.ingest, { path: REAL, saeId: "rt-src" });
    expect(m).toMatchObject({ outcome: "merged", features: 2, activations: 73 });
    expect(await rawQuery(t.app.db, "SELECT decoder::text AS d FROM feature WHERE sae_id = 'rt-src' AND idx = 0")).toEqual(decoderBefore);
    const acts = join(dir, "acts.jsonl");
    writeFileSync(
      acts,
      [
        { index: 5, tokens: ["日本", "語", " ✓"], values: [0.5, 2, 0] },
        { type: "explanation", index: 5, text: "Japanese", method: "llm-explain/v1", explainerModel: "m1", promptVersion: "v1" },
        { type: "explanation", index: 5, text: "imported label" },
      ]
        .map((o) => JSON.stringify(o))
        .join("\n"),
    );
    await importNativeActivations(t.app.services.ingest, { file: acts, saeId: "rt-src" });

    const out = join(dir, "export-rt");
    const ex = await exportNeuronpedia(new ExportRepository(t.app.db), "rt-src", out);
    expect(ex).toMatchObject({ features: 64, activations: 74, explanations: 2 });
    const r = await importNeuronpedia(t.app.services.ingest, { path: out, saeId: "rt-copy" });
    expect(r).toMatchObject({ outcome: "created", features: 64, activations: 74, explanations: 2 });

    const src = await t.app.db.prisma.sae.findUniqueOrThrow({ where: { id: "rt-src" } });
    const copy = await t.app.db.prisma.sae.findUniqueOrThrow({ where: { id: "rt-copy" } });
    const pick = (s: typeof src) => ({ ...s, id: null, name: null, contentHash: null, source: null, createdAt: null, updatedAt: null, status: null });
    expect(pick(copy)).toEqual(pick(src));
    for (const sql of [
      `SELECT idx, decoder::text AS decoder, decoder_norm, encoder::text AS encoder, b_enc, threshold, density, max_activation,
              neuron_index, neuron_cosine, neuron_corr_index, neuron_corr_pearson FROM feature WHERE sae_id = $1 ORDER BY idx`,
      `SELECT idx, pos_logits, neg_logits, freq_histogram, logits_histogram, correlated_neurons, correlated_features, neuron_alignment, extra
       FROM feature_dashboard WHERE sae_id = $1 ORDER BY idx`,
      `SELECT feature_idx, ordinal, tokens, values, max_value, max_token_index, kind, bin_min, bin_max, source, text
       FROM activation WHERE sae_id = $1 ORDER BY feature_idx, ordinal`,
      `SELECT feature_idx, text, method, prompt_version, explainer_model FROM explanation WHERE sae_id = $1 ORDER BY feature_idx, method, text`,
    ]) {
      const a = await rawQuery(t.app.db, sql, ["rt-src"]);
      const b = await rawQuery(t.app.db, sql, ["rt-copy"]);
      expect(a.length).toBeGreaterThan(0);
      expect(b).toEqual(a);
    }
  });
});
