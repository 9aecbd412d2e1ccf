// The stored sizes the cost limit charges list fields at (modules/sizes), on both backends:
// each is the longest list stored now, and a look after a write sees it.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTestApp, type TestApp } from "../../helpers/backend.ts";
import { seedFeatures } from "../../helpers/feature-seed.ts";

let t: TestApp;
beforeAll(async () => {
  t = await openTestApp();
  await seedFeatures(t.app, { n: 4, dIn: 32, saeId: "m/a", modelId: "m" });
});
afterAll(async () => t?.close());

describe("stored sizes", () => {
  it("reads the longest stored lists of the seeded SAE", async () => {
    const s = await t.app.services.sizes.current();
    // The seed: 32-dim decoders, 3-token examples, logits {tokens: 2} and [1 entry], 3-bar histograms.
    expect(s).toMatchObject({ models: 1, saes: 1, dIn: 32, tokens: 3, logits: 2, histogram: 3, explanationsPerFeature: 0 });
  });

  it("asked only for sizes the look answers, runs one statement and no scan", async () => {
    await seedFeatures(t.app, { n: 2, dIn: 8, saeId: "m/c", modelId: "m" });
    const before = t.app.db.stats.statements;
    expect((await t.app.services.sizes.current(["saes", "dIn"])).saes).toBe(2);
    expect(t.app.db.stats.statements - before).toBe(1);
    // The examples of the new SAE are scanned once asked for, then known.
    expect((await t.app.services.sizes.current(["tokens"])).tokens).toBe(3);
    // Asked again with nothing written since: no statement at all (the look is still current).
    const after = t.app.db.stats.statements;
    await t.app.services.sizes.current(["tokens"]);
    expect(t.app.db.stats.statements - after).toBe(0);
    await t.app.services.ingest.removeSae("m/c");
  });

  it("follows explanations, scores, lineage edges and new SAEs", async () => {
    const p = t.app.db.prisma;
    for (const text of ["one", "two", "three"]) await t.app.services.explanation.addHuman({ saeId: "m/a", index: 1 }, text);
    await t.app.services.explanation.addHuman({ saeId: "m/a", index: 2 }, "other");
    expect((await t.app.services.sizes.current()).explanationsPerFeature).toBe(3);
    // Incremental: a new label on another feature does not lower what feature 1 holds.
    await t.app.services.explanation.addHuman({ saeId: "m/a", index: 3 }, "x");
    expect((await t.app.services.sizes.current()).explanationsPerFeature).toBe(3);

    await p.$executeRaw`INSERT INTO explanation_score (sae_id, explanation_id, kind, metric, value)
      SELECT e.sae_id, e.id, 'detection', m, 0.5 FROM explanation e, unnest(ARRAY['f1', 'recall']) AS m WHERE e.text = 'two'`;
    expect((await t.app.services.sizes.current()).scoresPerExplanation).toBe(2);

    await seedFeatures(t.app, { n: 8, dIn: 512, saeId: "m/b", modelId: "m" });
    await p.$executeRaw`INSERT INTO sae_family (id, name, model_id) VALUES ('fam', 'fam', 'm')`;
    await p.$executeRaw`INSERT INTO lineage_edge (family_id, parent_sae_id, parent_idx, child_sae_id, child_idx, cosine, rank)
      SELECT 'fam', 'm/a', 0, 'm/b', c, 0.9, 0 FROM generate_series(0, 4) AS c`;
    await p.$executeRaw`UPDATE sae_family SET lineage_built_at = now() WHERE id = 'fam'`;
    const s = await t.app.services.sizes.current();
    expect(s).toMatchObject({ saes: 2, families: 1, dIn: 512, childrenPerFeature: 5, parentsPerFeature: 1 });

    await t.app.services.ingest.removeSae("m/b");
    expect((await t.app.services.sizes.current()).dIn).toBe(32);
  });
});
