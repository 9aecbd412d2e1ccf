// SAELens checkpoints and native activation JSONL through the importers, both backends.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { halfBitsToFloat, toHalfBits } from "../../../src/shared/float16.ts";
import { importNativeActivations } from "../../../src/ingest/native/import-activations.ts";
import { importSaelens } from "../../../src/ingest/saelens/import-saelens.ts";
import { openTestApp, type TestApp } from "../../helpers/backend.ts";
import { rawQuery, rowCounts } from "../../helpers/row-counts.ts";
import { weightValue, writeCheckpoint } from "../../helpers/saelens-fixture.ts";

let t: TestApp;
const dir = mkdtempSync(join(tmpdir(), "monoscope-saelens-"));
beforeAll(async () => {
  t = await openTestApp();
});
afterAll(async () => {
  await t.close();
  rmSync(dir, { recursive: true, force: true });
});

const dIn = 16;
const dSae = 300;

describe("ingest saelens", () => {
  it.each(["F32", "F16", "BF16"] as const)("stores %s checkpoints: unit decoders, norms, encoder columns, stats", async (dtype) => {
    const ck = join(dir, `ck-${dtype}`);
    await writeCheckpoint(ck, { dIn, dSae, dtype, sparsity: true });
    const s = await importSaelens(t.app.services.ingest, { dir: ck, saeId: `toy-${dtype.toLowerCase()}`, familyId: "toy-fam", batchSize: 64 });
    expect(s).toMatchObject({ outcome: "created", features: dSae });
    const sae = await t.app.db.prisma.sae.findUniqueOrThrow({ where: { id: `toy-${dtype.toLowerCase()}` } });
    expect(sae).toMatchObject({ status: "ready", architecture: "jumprelu", dIn, dSae, layer: 3, hookName: "blocks.3.hook_resid_post", modelId: "toy-model", familyId: "toy-fam" });
    expect(sae.bDec).toHaveLength(dIn);
    const rows = await rawQuery<{ idx: number; d: string; decoder_norm: number; e: string; b_enc: number; threshold: number; density: number }>(
      t.app.db,
      "SELECT idx, decoder::text AS d, decoder_norm, encoder::text AS e, b_enc, threshold, density FROM feature WHERE sae_id = $1 AND idx IN (0, 7, 299) ORDER BY idx",
      [`toy-${dtype.toLowerCase()}`],
    );
    expect(rows.map((r) => r.idx)).toEqual([0, 7, 299]);
    const q = (x: number) => (dtype === "F32" ? x : dtype === "F16" ? halfBitsToFloat(toHalfBits(x)) : bf16(x));
    for (const r of rows) {
      const raw = Array.from({ length: dIn }, (_, j) => q(weightValue(1, "W_dec", r.idx * dIn + j)));
      const norm = Math.hypot(...raw);
      expect(r.decoder_norm).toBeCloseTo(norm, 5);
      const unit = JSON.parse(r.d) as number[];
      unit.forEach((u, j) => expect(u).toBeCloseTo(raw[j]! / norm, 2));
      const enc = JSON.parse(r.e) as number[];
      enc.forEach((v, j) => expect(v).toBeCloseTo(q(weightValue(1, "W_enc", j * dSae + r.idx)), 6));
      expect(r.threshold).toBeCloseTo(q(0.1 + 0.001 * (r.idx % 13)), 6);
      expect(r.density).toBeCloseTo(r.idx % 10 === 0 ? 0 : 10 ** (-1 - (r.idx % 5)), 6);
    }
  });

  it("encodes the same rows in worker threads (large checkpoints) as on the main thread", async () => {
    const ck = join(dir, "ck-F16");
    const s = await importSaelens(t.app.services.ingest, { dir: ck, saeId: "toy-workers", workers: true, batchSize: 64 });
    expect(s).toMatchObject({ outcome: "created", features: dSae });
    const sql = `SELECT idx, decoder::text AS d, decoder_norm, encoder::text AS e, b_enc, threshold, density, neuron_index, neuron_cosine
                 FROM feature WHERE sae_id = $1 ORDER BY idx`;
    expect(await rawQuery(t.app.db, sql, ["toy-workers"])).toEqual(await rawQuery(t.app.db, sql, ["toy-f16"]));
    await t.app.services.ingest.removeSae("toy-workers");

    const bad = join(dir, "ck-nan");
    await writeCheckpoint(bad, { dIn, dSae, tensors: { W_dec: { dtype: "F32", shape: [dSae, dIn], data: (i) => (i === 200 * dIn + 3 ? Number.NaN : 0.1) } } });
    const before = await rowCounts(t.app.db);
    await expect(importSaelens(t.app.services.ingest, { dir: bad, saeId: "toy-nan", workers: true, batchSize: 64 })).rejects.toThrow(
      `${join(bad, "sae_weights.safetensors")}: W_dec[200]: value 3 is NaN`,
    );
    expect(await rowCounts(t.app.db)).toEqual(before);
  });

  it("is a no-op the second time, and --replace reloads", async () => {
    const ck = join(dir, "ck-F32");
    const before = await rowCounts(t.app.db);
    expect((await importSaelens(t.app.services.ingest, { dir: ck, saeId: "toy-f32" })).outcome).toBe("skipped");
    expect(await rowCounts(t.app.db)).toEqual(before);
    expect((await importSaelens(t.app.services.ingest, { dir: ck, saeId: "toy-f32", replace: true, layer: 9 })).outcome).toBe("replaced");
    const after = await rowCounts(t.app.db);
    for (const table of ["sae", "feature", "model", "sae_family"]) expect(after[table], table).toBe(before[table]); // lineage hooks may differ
    expect((await t.app.db.prisma.sae.findUniqueOrThrow({ where: { id: "toy-f32" } })).layer).toBe(9);
  });

  it("orders a family's SAEs by d_sae", async () => {
    const ck = join(dir, "ck-small");
    await writeCheckpoint(ck, { dIn, dSae: 50, architecture: null, seed: 3 });
    await importSaelens(t.app.services.ingest, { dir: ck, saeId: "toy-small", familyId: "toy-fam" });
    const saes = await t.app.services.sae.saes({ familyId: "toy-fam" });
    expect(saes.map((s) => s.dSae)).toEqual([50, 300, 300]); // toy-f32 left the family on --replace without --family
    expect(saes[0]!.architecture).toBe("standard");
  });
});

describe("ingest activations (native JSONL)", () => {
  it("adds examples, stats and labels to an existing SAE; gz or plain", async () => {
    const lines = [
      { type: "feature", index: 5, density: 0.25, maxActivation: 2.5 },
      { type: "activation", index: 5, tokens: ["the", " cat"], values: [0, 1.5], kind: "top", binMin: null, binMax: null, source: "s1" },
      { index: 5, tokens: ["a"], values: [0.5], kind: "quantile", binMin: 0, binMax: 1 },
      { type: "explanation", index: 5, text: "cats" },
    ];
    const file = join(dir, "acts.jsonl.gz");
    writeFileSync(file, gzipSync(lines.map((l) => JSON.stringify(l)).join("\n") + "\n"));
    const s = await importNativeActivations(t.app.services.ingest, { file, saeId: "toy-small" });
    expect(s).toMatchObject({ outcome: "merged", features: 1, activations: 2, explanations: 1 });
    const acts = await rawQuery(t.app.db, "SELECT ordinal, text, kind, bin_max, source FROM activation WHERE sae_id = 'toy-small' ORDER BY ordinal");
    expect(acts).toEqual([
      { ordinal: 0, text: "the cat", kind: "top", bin_max: null, source: "s1" },
      { ordinal: 1, text: "a", kind: "quantile", bin_max: 1, source: null },
    ]);
    const f = await rawQuery(t.app.db, "SELECT density, max_activation FROM feature WHERE sae_id = 'toy-small' AND idx = 5");
    expect(f).toEqual([{ density: 0.25, max_activation: 2.5 }]);
    expect((await importNativeActivations(t.app.services.ingest, { file, saeId: "toy-small" })).outcome).toBe("skipped");
    const again = await importNativeActivations(t.app.services.ingest, { file, saeId: "toy-small", replace: true });
    expect(again.activations).toBe(2);
    const n = await rawQuery<{ n: number }>(t.app.db, "SELECT count(*)::int AS n FROM activation WHERE sae_id = 'toy-small'");
    expect(n[0]!.n).toBe(2);
  });

  it("rejects a bad line with file:line: field: problem and changes nothing", async () => {
    const file = join(dir, "bad.jsonl");
    writeFileSync(file, [JSON.stringify({ index: 1, tokens: ["a"], values: [1] }), JSON.stringify({ index: 1, tokens: ["a", "b"], values: [1] })].join("\n"));
    const before = await rowCounts(t.app.db);
    await expect(importNativeActivations(t.app.services.ingest, { file, saeId: "toy-small" })).rejects.toThrow(`${file}:2: values: has 1 values for 2 tokens`);
    expect(await rowCounts(t.app.db)).toEqual(before);
    await expect(importNativeActivations(t.app.services.ingest, { file, saeId: "nope" })).rejects.toThrow(/SAE "nope" does not exist/);
  });
});

function bf16(x: number): number {
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer);
  u[0] = u[0]! & 0xffff0000;
  return f[0]!;
}
