// Feature reads through GraphQL on both backends: fields, Relay pagination under every
// ordering and filter, error codes, and the statement count of a batched page.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { executeQuery } from "../../src/graphql/execute.ts";
import { openTestApp, type TestApp } from "../helpers/backend.ts";
import { seedFeatures } from "../helpers/feature-seed.ts";

const N = 40;
let t: TestApp;
let saeId: string;

beforeAll(async () => {
  t = await openTestApp({ MONOSCOPE_MAX_PAGE_SIZE: "100", MONOSCOPE_MAX_K: "50" });
  ({ saeId } = await seedFeatures(t.app, { n: N, examples: 2 }));
  await seedFeatures(t.app, { saeId: "test-model/hidden", n: 3, status: "loading" });
  await t.app.db.prisma.$executeRaw`
    INSERT INTO explanation (sae_id, feature_idx, text, method) VALUES (${saeId}, 3, 'brigades', 'imported'), (${saeId}, 5, 'units', 'imported')`;
});
afterAll(async () => t?.close());

const q = (query: string, variables?: Record<string, unknown>) => executeQuery(t.app, query, variables);
const codes = (r: { errors?: readonly unknown[] }) => (r.errors ?? []).map((e) => (e as { extensions?: { code?: string } }).extensions?.code);

describe("Query.feature", () => {
  it("returns every field of a feature", async () => {
    const r = await q(
      `query($s: ID!) { feature(saeId: $s, index: 4) {
        id index sae { id dIn } density maxActivation decoderNorm decoder
        neuronAlignment { neuron cosine } umap { x y }
        logits { positive { token value } negative { token value } }
        histograms { activationDensity { values heights } logits { heights } }
        topActivations(first: 3) { kind tokens values maxValue maxTokenIndex binMin binMax text }
      } }`,
      { s: saeId },
    );
    expect(r.errors).toBeUndefined();
    const f = (r.data as any).feature;
    expect(f.id).toBe(`${saeId}:4`);
    expect(f.sae).toEqual({ id: saeId, dIn: 16 });
    expect(f.density).toBeCloseTo(0.0025, 6);
    expect(f.maxActivation).toBeCloseTo(9.96, 5);
    expect(f.decoderNorm).toBeCloseTo(1.04, 5);
    expect(f.decoder).toHaveLength(16);
    expect(Math.hypot(...f.decoder)).toBeCloseTo(1, 2);
    expect(f.neuronAlignment).toEqual({ neuron: 4, cosine: expect.closeTo(0.3, 5) });
    expect(f.umap).toEqual({ x: 2, y: -1 });
    expect(f.logits.positive).toEqual([{ token: " Brigade", value: 3.75 }, { token: " brigade", value: 3.06 }]);
    expect(f.logits.negative).toEqual([{ token: "sequence", value: -0.7 }]);
    expect(f.histograms.activationDensity).toEqual({ values: [0.1, 0.2, 0.3], heights: [5, 3, 1] });
    // Top examples first (strongest first), then quantile samples (highest bin first).
    expect(f.topActivations.map((a: any) => [a.kind, a.maxValue, a.binMax])).toEqual([
      ["TOP", 10, null],
      ["TOP", 9, null],
      ["QUANTILE", 7, 2],
    ]);
    expect(f.topActivations[0]).toMatchObject({ tokens: ["a", "b", "c"], values: [0, 10, 0], maxTokenIndex: 1, text: "abc" });
  });

  it("filters activation kinds", async () => {
    const r = await q(`query($s: ID!) { feature(saeId: $s, index: 0) { topActivations(first: 10, kinds: [QUANTILE]) { kind binMin } } }`, { s: saeId });
    expect((r.data as any).feature.topActivations).toEqual([
      { kind: "QUANTILE", binMin: 1 },
      { kind: "QUANTILE", binMin: 0 },
    ]);
  });

  it("is null for a missing feature, a negative index and an SAE still loading", async () => {
    const r = await q(`query($s: ID!) { a: feature(saeId: $s, index: 999) { id } b: feature(saeId: $s, index: -1) { id } c: feature(saeId: "test-model/hidden", index: 0) { id } }`, { s: saeId });
    expect(r.errors).toBeUndefined();
    expect(r.data).toEqual({ a: null, b: null, c: null });
  });

  it("refuses first above the configured maximum k", async () => {
    const r = await q(`query($s: ID!) { feature(saeId: $s, index: 0) { topActivations(first: 51) { kind } } }`, { s: saeId });
    expect(codes(r)).toEqual(["BAD_USER_INPUT"]);
  });
});

async function walk(orderBy: string, filter: Record<string, unknown> | null, first: number) {
  const indices: number[] = [];
  const nodes: any[] = [];
  let after: string | null = null;
  let total = -1;
  for (let page = 0; page < 100; page++) {
    const r = await q(
      `query($s: ID!, $first: Int, $after: String, $o: FeatureOrder, $f: FeatureFilter) {
        features(saeId: $s, first: $first, after: $after, orderBy: $o, filter: $f) {
          totalCount edges { cursor node { index density maxActivation } } pageInfo { hasNextPage endCursor } } }`,
      { s: saeId, first, after, o: orderBy, f: filter },
    );
    expect(r.errors).toBeUndefined();
    const c = (r.data as any).features;
    total = c.totalCount;
    for (const e of c.edges) {
      indices.push(e.node.index);
      nodes.push(e.node);
    }
    if (c.edges.length) expect(c.pageInfo.endCursor).toBe(c.edges.at(-1).cursor);
    if (!c.pageInfo.hasNextPage) break;
    after = c.pageInfo.endCursor;
  }
  return { indices, nodes, total };
}

describe("Query.features", () => {
  it("pages through every feature by index with stable cursors", async () => {
    const { indices, total } = await walk("INDEX", null, 7);
    expect(total).toBe(N);
    expect(indices).toEqual(Array.from({ length: N }, (_, i) => i));
  });

  it("orders by density descending (nulls last, ties by index) across pages", async () => {
    const { nodes } = await walk("DENSITY_DESC", null, 6);
    expect(nodes).toHaveLength(N);
    const expected = [...nodes].sort((a, b) =>
      a.density === b.density ? a.index - b.index : a.density === null ? 1 : b.density === null ? -1 : b.density - a.density,
    );
    expect(nodes.map((n) => n.index)).toEqual(expected.map((n) => n.index));
    expect(new Set(nodes.map((n) => n.index)).size).toBe(N);
    expect(nodes.at(-1).density).toBeNull();
  });

  it("orders by max activation descending", async () => {
    const { indices } = await walk("MAX_ACTIVATION_DESC", null, 9);
    expect(indices).toEqual(Array.from({ length: N }, (_, i) => i));
  });

  it("filters by density range and by label", async () => {
    const dense = await walk("DENSITY_DESC", { minDensity: 0.005, maxDensity: 0.01 }, 5);
    expect(dense.nodes.length).toBeGreaterThan(0);
    expect(dense.total).toBe(dense.nodes.length);
    for (const n of dense.nodes) expect(n.density).toBeGreaterThanOrEqual(0.005 - 1e-9);
    for (const n of dense.nodes) expect(n.density).toBeLessThanOrEqual(0.01 + 1e-9);
    const labeled = await walk("INDEX", { labeled: true }, 50);
    expect(labeled.indices).toEqual([3, 5]);
    expect(labeled.total).toBe(2);
    const unlabeled = await walk("INDEX", { labeled: false }, 50);
    expect(unlabeled.total).toBe(N - 2);
  });

  it("answers bad cursors, page sizes, filters and unknown SAEs with clear codes", async () => {
    const first = await q(`query($s: ID!) { features(saeId: $s, first: 2) { pageInfo { endCursor } } }`, { s: saeId });
    const cursor = (first.data as any).features.pageInfo.endCursor;
    const cases: [string, Record<string, unknown>, string][] = [
      [`query($s: ID!) { features(saeId: $s, after: "garbage!") { totalCount } }`, { s: saeId }, "BAD_USER_INPUT"],
      [`query($s: ID!, $c: String) { features(saeId: $s, after: $c, orderBy: DENSITY_DESC) { totalCount } }`, { s: saeId, c: cursor }, "BAD_USER_INPUT"],
      [`query($s: ID!) { features(saeId: $s, first: 101) { totalCount } }`, { s: saeId }, "BAD_USER_INPUT"],
      [`query($s: ID!) { features(saeId: $s, filter: { minDensity: 0.5, maxDensity: 0.1 }) { totalCount } }`, { s: saeId }, "BAD_USER_INPUT"],
      [`{ features(saeId: "nope") { totalCount } }`, {}, "NOT_FOUND"],
      [`{ features(saeId: "test-model/hidden") { totalCount } }`, {}, "NOT_FOUND"],
    ];
    for (const [query, vars, code] of cases) expect(codes(await q(query, vars)), query).toEqual([code]);
  });
});
