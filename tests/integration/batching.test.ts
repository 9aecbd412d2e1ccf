// DataLoader batching: a page of features with all their per-feature fields costs the
// same number of SQL statements whether it holds 10 or 100 features.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { executeQuery } from "../../src/graphql/execute.ts";
import { openTestApp, type TestApp } from "../helpers/backend.ts";
import { seedFeatures } from "../helpers/feature-seed.ts";
import { trustStoredSizes } from "../helpers/stored-sizes.ts";

let t: TestApp;
let saeId: string;

beforeAll(async () => {
  t = await openTestApp({ MONOSCOPE_MAX_ALIASES: "200", MONOSCOPE_MAX_COST: "100000" });
  ({ saeId } = await seedFeatures(t.app, { n: 120, examples: 2 }));
  trustStoredSizes(t.app);
  await t.app.db.prisma.$executeRaw`
    INSERT INTO explanation (sae_id, feature_idx, text, method) SELECT ${saeId}, i, 'label ' || i, 'imported' FROM generate_series(0, 119) AS i`;
});
afterAll(async () => t?.close());

// Fields other modules add to Feature: all part of the page, so the bound covers them (a
// group that fails to resolve fails the test instead of leaving the page).
const OTHER_MODULES: Record<string, string> = {
  labels: "label explanations { text method }",
  neighbours: "neighbors(k: 5) { cosine feature { id density } }",
  lineage: "parents { cosine feature { id } } children { cosine feature { id } }",
};

const page = (extra: string) => `query($s: ID!, $n: Int!) {
  features(saeId: $s, first: $n, orderBy: DENSITY_DESC) {
    totalCount
    edges { node {
      id index density maxActivation decoderNorm umap { x y } neuronAlignment { neuron cosine }
      sae { id name model { id } }
      decoder
      logits { positive { token value } }
      histograms { activationDensity { heights } }
      top: topActivations(first: 2, kinds: [TOP]) { maxValue }
      quantiles: topActivations(first: 2, kinds: [QUANTILE]) { binMax }
      ${extra}
    } }
  }
}`;
const PAGE = page(Object.values(OTHER_MODULES).join("\n      "));

const BY_INDEX = `query($s: ID!, ${Array.from({ length: 100 }, (_, i) => `$i${i}: Int!`).join(", ")}) {
  ${Array.from({ length: 100 }, (_, i) => `f${i}: feature(saeId: $s, index: $i${i}) { id density logits { positive { token } } topActivations(first: 1) { maxValue } }`).join("\n")}
}`;

async function statementsFor(query: string, variables: Record<string, unknown>, opts: { sizesKnown?: boolean } = { sizesKnown: true }) {
  // The cost limit's stored sizes stay known for a second while nothing is written (modules/sizes):
  // looked up first so that whether this query repeats the look does not depend on timing.
  if (opts.sizesKnown) await t.app.services.sizes.current();
  const before = t.app.db.stats.statements;
  const r = await executeQuery(t.app, query, variables);
  expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
  return { count: t.app.db.stats.statements - before, data: r.data as any };
}

describe("statement count", () => {
  it("is bounded and independent of page size", async () => {
    // The first page also fills per-process caches (the decoder matrix for neighbours): not per page.
    await statementsFor(PAGE, { s: saeId, n: 1 });
    const small = await statementsFor(PAGE, { s: saeId, n: 10 });
    const large = await statementsFor(PAGE, { s: saeId, n: 100 });
    expect(small.data.features.edges).toHaveLength(10);
    expect(large.data.features.edges).toHaveLength(100);
    expect(large.data.features.edges[99].node.top).toHaveLength(2);
    expect(large.data.features.edges[0].node.explanations).toEqual([expect.objectContaining({ method: "imported" })]);
    console.log(`[${t.db.backend}] features page (own fields + ${Object.keys(OTHER_MODULES).join(", ")}): N=10 → ${small.count} statements, N=100 → ${large.count}`);
    expect(large.count).toBe(small.count);
    // Own fields: SAE check, page, count, sae, model, decoder, dashboard, 2 activation kinds = 9;
    // a few more per other module.
    expect(large.count).toBeLessThanOrEqual(9 + 4 * Object.keys(OTHER_MODULES).length);
  });

  it("batches 100 separate feature(...) lookups into a few statements", async () => {
    const vars: Record<string, unknown> = { s: saeId };
    for (let i = 0; i < 100; i++) vars[`i${i}`] = i;
    const r = await statementsFor(BY_INDEX, vars);
    console.log(`[${t.db.backend}] 100 aliased feature lookups: ${r.count} statements`);
    expect(Object.keys(r.data)).toHaveLength(100);
    // One more: the cost limit reads the stored list sizes (logits, examples) once per request.
    expect(r.count).toBeLessThanOrEqual(4);
  });
});

// The deploy suite's feature page: the row, its labels, top activations and neighbours.
const FEATURE_PAGE = `query($s: ID!, $i: Int!) { feature(saeId: $s, index: $i) { index explanations { text }
  topActivations(first: 10) { tokens values } neighbors(k: 5) { feature { index } cosine } } }`;

describe("feature page", () => {
  it("costs one statement per kind of data and none for the cost limit's stored sizes when nothing was written", async () => {
    await statementsFor(FEATURE_PAGE, { s: saeId, i: 3 }); // fills per-process caches (decoder matrix)
    const known = await statementsFor(FEATURE_PAGE, { s: saeId, i: 7 });
    expect(known.data.feature.index).toBe(7);
    expect(known.data.feature.explanations).toEqual([{ text: "label 7" }]);
    expect(known.data.feature.neighbors).toHaveLength(5);
    // Right after another page and no write: the cost limit runs no statement of its own.
    const next = await statementsFor(FEATURE_PAGE, { s: saeId, i: 7 }, { sizesKnown: false });
    expect(next.count).toBe(known.count);
    expect(next.data).toEqual(known.data);
  });

  it("answers a missing feature with null, and a missing one beside a present one leaves the present one whole", async () => {
    const missing = await statementsFor(FEATURE_PAGE, { s: saeId, i: 5000 });
    expect(missing.data.feature).toBeNull();
    const two = `query($s: ID!) { a: feature(saeId: $s, index: 5000) { index neighbors(k: 5) { cosine } }
      b: feature(saeId: $s, index: 8) { index explanations { text } neighbors(k: 5) { feature { index } cosine } } }`;
    const { data } = await statementsFor(two, { s: saeId });
    expect(data.a).toBeNull();
    const alone = await statementsFor(FEATURE_PAGE, { s: saeId, i: 8 });
    expect(data.b.neighbors).toEqual(alone.data.feature.neighbors.map((n: any) => ({ feature: n.feature, cosine: n.cosine })));
    expect(data.b.explanations).toEqual([{ text: "label 8" }]);
  });

  it("sees a label added since the last page (the write invalidates the stored sizes)", async () => {
    await t.app.services.explanation.addHuman({ saeId, index: 9 }, "second 9");
    expect((await t.app.services.sizes.current(["explanationsPerFeature"])).explanationsPerFeature).toBe(2);
    const { data } = await statementsFor(FEATURE_PAGE, { s: saeId, i: 9 });
    expect(data.feature.explanations.map((e: any) => e.text).sort()).toEqual(["label 9", "second 9"]);
  });
});
