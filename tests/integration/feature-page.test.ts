// The feature page in one statement (src/graphql/prefetch.ts, FeatureService.pagesByKeys): the
// row, labels, activation examples and stored neighbour list read together give the same records
// as the per-kind reads the child fields' loaders make, and a page costs one statement.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { executeQuery } from "../../src/graphql/execute.ts";
import { featureKey } from "../../src/shared/feature-key.ts";
import { trustStoredSizes } from "../helpers/stored-sizes.ts";
import { openTestApp, type TestApp } from "../helpers/backend.ts";
import { seedFeatures } from "../helpers/feature-seed.ts";

let t: TestApp;
let saeId: string;
const N = 40;

beforeAll(async () => {
  t = await openTestApp({ MONOSCOPE_MAX_ALIASES: "200", MONOSCOPE_MAX_COST: "100000" });
  trustStoredSizes(t.app);
  ({ saeId } = await seedFeatures(t.app, { n: N, examples: 3 }));
  const p = t.app.db.prisma;
  // Two labels on feature 3 (a scored import and a later human label), one on every other even feature.
  await p.$executeRaw`
    INSERT INTO explanation (sae_id, feature_idx, text, method, explainer_model, input_tokens, cost_usd, created_at)
    SELECT ${saeId}, i, 'label ' || i, 'imported', 'm', i, i * 0.25, timestamptz '2026-01-02 03:04:05.678+00' + i * interval '1 ms'
    FROM generate_series(0, ${N - 1}) AS i WHERE i % 2 = 0 OR i = 3`;
  await p.$executeRaw`
    INSERT INTO explanation_score (sae_id, explanation_id, kind, metric, value)
    SELECT sae_id, id, 'detection', 'balanced_accuracy', 0.625 FROM explanation WHERE sae_id = ${saeId} AND feature_idx = 3`;
  await t.app.services.explanation.addHuman({ saeId, index: 3 }, "human three");
  await t.app.services.geometry.nearest.buildNeighbourLists(saeId, {});
});
afterAll(async () => t?.close());

async function run(query: string, variables: Record<string, unknown>) {
  // The cost limit's stored sizes, looked up first so that whether the query repeats the look does not depend on timing.
  await t.app.services.sizes.current();
  const before = t.app.db.stats.statements;
  const r = await executeQuery(t.app, query, variables);
  return { statements: t.app.db.stats.statements - before, data: r.data as any, errors: r.errors };
}

const PAGE = `query($s: ID!, $i: Int!) { feature(saeId: $s, index: $i) { index density label explanations { id text method quality createdAt }
  topActivations(first: 4) { tokens values maxValue kind binMax } neighbors(k: 5) { feature { index } cosine } } }`;

describe("feature page", () => {
  it("reads the same records in one statement as the per-kind reads", async () => {
    const s = t.app.services;
    const keys = [3, 4, 7, 39, 999].map((index) => ({ saeId, index }));
    const req = s.feature.pageRequest({
      explanations: true,
      activations: [{ first: 4, kinds: ["TOP", "QUANTILE"] }, { first: 2, kinds: ["QUANTILE"] }],
      neighbourList: true,
    });
    const before = t.app.db.stats.statements;
    const pages = await s.feature.pagesByKeys(keys, req);
    expect(t.app.db.stats.statements - before).toBe(1);
    expect(pages.has(featureKey(keys[4]!))).toBe(false);
    const rows = new Map((await s.feature.featuresByKeys(keys)).map((r) => [featureKey(r), r]));
    const labels = await s.explanation.byFeatures(keys);
    const neighbours = await s.geometry.nearest.nearestFeaturesMany(keys.slice(0, 4), { k: 5 });
    for (const [n, key] of keys.slice(0, 4).entries()) {
      const page = pages.get(featureKey(key))!;
      expect(page.row).toEqual(rows.get(featureKey(key)));
      expect(page.explanations).toEqual(labels.get(featureKey(key)) ?? []);
      expect(page.activations[0]).toEqual(await s.feature.activationsByKeys([key], 4, ["TOP", "QUANTILE"]));
      expect(page.activations[1]).toEqual(await s.feature.activationsByKeys([key], 2, ["QUANTILE"]));
      expect(s.geometry.nearest.storedNeighbours(key, page, { k: 5 })).toEqual(neighbours[n]);
    }
    // The human label ranks below the scored import; both come back, the scored one first.
    expect(pages.get(featureKey(keys[0]!))!.explanations!.map((e) => e.text)).toEqual(["label 3", "human three"]);
  });

  it("answers Query.feature in one statement, with the label, examples and neighbours of the per-kind reads", async () => {
    const r = await run(PAGE, { s: saeId, i: 3 });
    expect(r.errors).toBeUndefined();
    console.log(`[${t.db.backend}] feature page: ${r.statements} statement(s)`);
    expect(r.statements).toBe(1);
    const f = r.data.feature;
    expect(f.label).toBe("label 3");
    expect(f.explanations.map((e: any) => e.text)).toEqual(["label 3", "human three"]);
    expect(f.explanations[0]).toMatchObject({ method: "imported", quality: 0.625, createdAt: "2026-01-02T03:04:05.681Z" });
    expect(f.topActivations.map((a: any) => a.kind)).toEqual(["TOP", "TOP", "TOP", "QUANTILE"]);
    // The stored list is the exact top-k (cosines stored as real).
    const near = await t.app.services.geometry.nearest.nearestFeatures({ saeId, index: 3 }, { k: 5, exact: true });
    expect(f.neighbors.map((n: any) => n.feature.index)).toEqual(near.map((n) => n.index));
    f.neighbors.forEach((n: any, j: number) => expect(n.cosine).toBeCloseTo(near[j]!.cosine, 6));
  });

  it("sees through fragments, aliases and @include, and still costs one statement", async () => {
    const q = `query($s: ID!, $i: Int!, $yes: Boolean!, $no: Boolean!) { feature(saeId: $s, index: $i) { ...Page
      more: topActivations(first: 1, kinds: [QUANTILE]) @include(if: $yes) { binMax }
      skipped: neighbors(k: 7) @include(if: $no) { cosine } } }
      fragment Page on Feature { index ... on Feature { names: explanations { text } } top: topActivations(first: 2) { maxValue } near: neighbors(k: 3) { cosine } }`;
    const r = await run(q, { s: saeId, i: 4, yes: true, no: false });
    expect(r.errors).toBeUndefined();
    expect(r.statements).toBe(1);
    expect(r.data.feature.names).toEqual([{ text: "label 4" }]);
    expect(r.data.feature.top).toHaveLength(2);
    expect(r.data.feature.more).toEqual([{ binMax: 3 }]); // the highest bin first
    expect(r.data.feature.near).toHaveLength(3);
    expect(r.data.feature.skipped).toBeUndefined();
  });

  it("leaves what the stored lists cannot answer, and bad arguments, to the fields", async () => {
    const q = `query($s: ID!, $i: Int!) { feature(saeId: $s, index: $i) { index none: topActivations(first: 0) { kind }
      far: neighbors(k: 35) { feature { index } } } }`;
    const r = await run(q, { s: saeId, i: 5 });
    expect(r.errors).toBeUndefined();
    expect(r.data.feature.none).toEqual([]);
    // k above the stored list's length: the scan answers it (more statements, same answer as before).
    expect(r.data.feature.far).toHaveLength(35);
    const bad = await run(`query($s: ID!) { feature(saeId: $s, index: 1) { index topActivations(first: 5000) { kind } } }`, { s: saeId });
    expect(JSON.stringify(bad.errors)).toContain("first must be between 1 and");
    const missing = await run(PAGE, { s: saeId, i: 999 });
    expect(missing.errors).toBeUndefined();
    expect(missing.data.feature).toBeNull();
    expect(missing.statements).toBe(1);
  });

  it("reads a features page's labels, examples and neighbour lists in one statement beside the page", async () => {
    const q = `query($s: ID!) { features(saeId: $s, first: 10, orderBy: DENSITY_DESC) { edges { node { index label explanations { text }
      topActivations(first: 4) { tokens values maxValue kind binMax } neighbors(k: 5) { feature { index } cosine } } } } }`;
    const r = await run(q, { s: saeId });
    expect(r.errors).toBeUndefined();
    console.log(`[${t.db.backend}] features page of 10: ${r.statements} statements`);
    // The SAE check, the page and the pages' parts.
    expect(r.statements).toBeLessThanOrEqual(3);
    for (const { node } of r.data.features.edges) {
      const one = await run(PAGE.replace(" density", ""), { s: saeId, i: node.index });
      const f = one.data.feature;
      expect(node).toEqual({ index: f.index, label: f.label, explanations: f.explanations.map((e: any) => ({ text: e.text })), topActivations: f.topActivations, neighbors: f.neighbors });
    }
  });
});
