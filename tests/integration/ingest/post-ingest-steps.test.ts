// Durable post-ingest steps on both backends: what each event records, a failing step stays
// FAILED (visible as Sae.pendingSteps) until a resume retries it, a merge that changes decoders
// rebuilds neighbour lists from scratch, a failed merge records nothing, and the migration
// records the work that SAEs ingested before it left unfinished.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { IngestService } from "../../../src/ingest/ingest.service.ts";
import type { SaeArtifact } from "../../../src/ingest/ingest.types.ts";
import { migrate } from "../../../src/db/migrate.ts";
import { openTestApp, type TestApp } from "../../helpers/backend.ts";
import { seedRandomSae } from "../../helpers/random-sae.ts";
import { rawQuery, rowCounts } from "../../helpers/row-counts.ts";

let t: TestApp;
let ingest: IngestService;
let failures = 0;

function artifact(id: string): SaeArtifact {
  return {
    model: { id: "steps-model" },
    sae: { id, architecture: "standard", dIn: 4, dSae: 6 },
    source: { format: "test", path: `/tmp/${id}` },
    contentHash: `h-${id}`,
  };
}

const decoders = (scale = 1) =>
  Array.from({ length: 6 }, (_, i) => ({ index: i, decoder: [Math.cos(i * scale), Math.sin(i * scale), i % 2, 1 / (i + 1)] }));

const steps = async (saeId: string) =>
  rawQuery<{ step: string; state: string; generation: number }>(t.app.db, "SELECT step, state, generation FROM sae_step WHERE sae_id = $1 ORDER BY step", [saeId]);

const lists = async (saeId: string) =>
  (await rawQuery<{ nn: number[] | null }>(t.app.db, "SELECT nn_indices AS nn FROM feature WHERE sae_id = $1 ORDER BY idx", [saeId])).map((r) => r.nn);

beforeAll(async () => {
  t = await openTestApp();
  ingest = t.app.services.ingest;
  t.app.services.steps.register({
    name: "flaky",
    on: ["ready"],
    run: async () => {
      if (failures-- > 0) throw new Error("flaky step failed on purpose");
    },
  });
});
afterAll(async () => {
  await t.close();
});

describe("post-ingest steps", () => {
  it("records every step of the event and marks each DONE when it finishes", async () => {
    await ingest.ingestSae(artifact("s1"), (sink) => sink.features(decoders()));
    const rows = await steps("s1");
    expect(rows.map((r) => r.step).sort()).toEqual(["alignment", "flaky", "lineage", "neighbours", "search", "umap"]);
    expect(rows.every((r) => r.state === "DONE")).toBe(true);
    expect((await lists("s1")).every((l) => l?.length === 5)).toBe(true);
    expect(await t.app.services.steps.pending("s1")).toEqual([]);
  });

  it("a failing step stays FAILED, shows in pendingSteps, and a resume retries it", async () => {
    failures = 1;
    await ingest.ingestSae(artifact("s2"), (sink) => sink.features(decoders()));
    expect(await t.app.services.steps.pending("s2")).toEqual([{ step: "flaky", state: "FAILED", done: 0, total: null }]);
    const r = await t.app.services.steps.resumeAll();
    expect(r).toEqual({ saes: ["s2"], steps: 1 });
    expect(await t.app.services.steps.pending("s2")).toEqual([]);
  });

  it("a merge that changes decoders rebuilds the lists; one of examples only records search and co-activation", async () => {
    const before = await lists("s1");
    const gen = Object.fromEntries((await steps("s1")).map((r) => [r.step, r.generation]));
    await ingest.mergeIntoSae("s1", { source: { format: "test", path: "/tmp/dec" }, contentHash: "dec-2" }, (sink) => sink.features(decoders(2.5)));
    const after = await lists("s1");
    expect(after.every((l) => l?.length === 5)).toBe(true);
    expect(after).not.toEqual(before);
    const regen = Object.fromEntries((await steps("s1")).map((r) => [r.step, r.generation]));
    expect(regen.neighbours).toBe(gen.neighbours! + 1);

    await ingest.mergeIntoSae("s1", { source: { format: "test", path: "/tmp/acts" }, contentHash: "acts-1" }, (sink) =>
      sink.activations([{ index: 0, tokens: ["a"], values: [1] }]),
    );
    const third = Object.fromEntries((await steps("s1")).map((r) => [r.step, r.generation]));
    expect(third).toMatchObject({ search: regen.search! + 1, coactivation: 1, neighbours: regen.neighbours });
    expect(await t.app.services.steps.pending("s1")).toEqual([]);
  });

  it("a failed merge records no step", async () => {
    const counts = await rowCounts(t.app.db);
    await expect(
      ingest.mergeIntoSae("s1", { source: { format: "test", path: "/tmp/bad" }, contentHash: "bad-1" }, async (sink) => {
        await sink.activations([{ index: 1, tokens: ["ok"], values: [1] }]);
        await sink.activations([{ index: 1, tokens: ["a", "b"], values: [1] }]);
      }),
    ).rejects.toThrow(/values: has 1 values for 2 tokens/);
    expect(await rowCounts(t.app.db)).toEqual(counts);
    expect(await t.app.services.steps.pending("s1")).toEqual([]);
  });

  it("the migration records what SAEs ingested before it left unfinished, and a resume finishes it", async () => {
    await seedRandomSae(t.app, { saeId: "old-sae", modelId: "old-model", n: 40, dIn: 8 });
    // As if the database predated sae_step: drop it and let the migration run again.
    await rawQuery(t.app.db, "DROP TABLE sae_step");
    await rawQuery(t.app.db, "DELETE FROM _prisma_migrations WHERE migration_name = '20261201010000_sae_steps'");
    expect((await migrate(t.app.db)).applied).toEqual(["20261201010000_sae_steps"]);
    expect((await t.app.services.steps.pending("old-sae")).map((s) => s.step)).toEqual(["neighbours", "umap", "alignment"]);
    expect(await t.app.services.steps.pending("s1")).toEqual([]);
    await t.app.services.steps.resumeAll();
    expect(await t.app.services.steps.pending("old-sae")).toEqual([]);
    expect((await lists("old-sae")).every((l) => l?.length === 32)).toBe(true);
  });

  it("removing an SAE removes its steps", async () => {
    await ingest.removeSae("s2");
    expect(await steps("s2")).toEqual([]);
  });
});
