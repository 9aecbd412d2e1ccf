// Labels, scores, embeddings and jobs through GraphQL (executeQuery), against the fake
// OpenAI server: offline token-pattern labels, the explain / score / embed mutations
// running in the background, the best-scoring label, batching, cancel and auth. Each test
// seeds its own SAE and writes the labels it starts from, so any one can run alone.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createApolloServer } from "../../../src/graphql/apollo.ts";
import { createContext } from "../../../src/graphql/create-context.ts";
import { executeQuery } from "../../../src/graphql/execute.ts";
import { autointerpResolvers } from "../../../src/modules/autointerp/autointerp.resolvers.ts";
import { type FakeOpenAI, startFakeOpenAI } from "../../fixtures/fake-openai-server.ts";
import { seedWordSae, WORDS } from "../../helpers/autointerp-seed.ts";
import { trustStoredSizes } from "../../helpers/stored-sizes.ts";
import { openTestApp, type TestApp } from "../../helpers/backend.ts";
import { seedFeatures } from "../../helpers/feature-seed.ts";

let fake: FakeOpenAI;
let t: TestApp;

beforeAll(async () => {
  fake = await startFakeOpenAI();
  t = await openTestApp({
    OPENAI_API_KEY: "sk-test-0123456789abcdefghijklmnop",
    OPENAI_BASE_URL: fake.url,
    MONOSCOPE_LLM_TIMEOUT_MS: "2000",
    MONOSCOPE_MAX_COST: "1000000",
    MONOSCOPE_MAX_ALIASES: "200",
  });
  trustStoredSizes(t.app);
});
afterAll(async () => {
  await t?.close();
  await fake?.close();
});
beforeEach(() => {
  fake.setFaults(null);
});

async function gql<T = any>(query: string, variables?: Record<string, unknown>): Promise<T> {
  const r = await executeQuery(t.app, query, variables);
  expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
  return r.data as T;
}
const q = <T = any>(sql: TemplateStringsArray, ...v: unknown[]) => t.app.db.prisma.$queryRaw<T[]>(sql, ...v);

/** A fresh SAE of 12 word features and 2 dead ones; `tokenLabels` and `explained` say what it starts with. */
async function wordSae(name: string, opts: { tokenLabels?: boolean; explained?: number[] } = {}) {
  const seeded = await seedWordSae(t.app, { saeId: `t/${name}`, words: WORDS.slice(0, 12), dead: 2 });
  if (opts.tokenLabels) await t.app.services.autointerp.writeTokenPatternLabels(seeded.saeId);
  if (opts.explained) {
    const job = await t.app.services.autointerp.create("explain", seeded.saeId, { indices: opts.explained });
    t.app.services.autointerp.start(job.id);
    expect(await t.app.services.autointerp.waitFor(job.id)).toMatchObject({ status: "SUCCEEDED", done: opts.explained.length });
  }
  return seeded;
}

const FEATURE = `query($s: ID!, $i: Int!) { feature(saeId: $s, index: $i) {
  label
  explanations { id method text promptVersion explainerModel costUsd inputTokens outputTokens quality jobId
    scores { kind metric value scorerModel } }
} }`;

describe("labels and jobs in GraphQL", () => {
  it("writes offline token-pattern labels for every alive feature, idempotently", async () => {
    const { saeId, words } = await wordSae("labels");
    const r = await t.app.services.autointerp.writeTokenPatternLabels(saeId);
    expect(r).toEqual({ labelled: 12, alive: 12 });
    const d = await gql(`query($s: ID!) { features(saeId: $s, first: 20) { edges { node { index label explanations { method } } } }
      sae(id: $s) { stats { labeledFraction } } }`, { s: saeId });
    for (const { node } of d.features.edges) {
      if (node.index >= 12) {
        expect(node.label).toBeNull();
        continue;
      }
      expect(node.label.split(/[ ,(]/)[0]).toBe(words[node.index]);
      expect(node.explanations).toEqual([{ method: "token-pattern/v1" }]);
    }
    expect(d.sae.stats.labeledFraction).toBeCloseTo(12 / 14);
    const again = await t.app.services.autointerp.writeTokenPatternLabels(saeId);
    expect(again.labelled).toBe(12);
    const n = await q<{ n: number }>`SELECT count(*)::int AS n FROM explanation WHERE sae_id = ${saeId}`;
    expect(n[0].n).toBe(12);
  });

  it("runs explainFeatures in the background; the job shows totals, tokens and cost", async () => {
    const { saeId, words } = await wordSae("explain", { tokenLabels: true });
    const m = await gql(`mutation($s: ID!) { explainFeatures(saeId: $s, indices: [0, 1, 2, 3, 4], maxCost: 1.5) { id status total maxCost } }`, { s: saeId });
    expect(m.explainFeatures).toMatchObject({ total: 5, maxCost: 1.5 });
    expect(["QUEUED", "RUNNING"]).toContain(m.explainFeatures.status);
    await t.app.services.autointerp.waitFor(m.explainFeatures.id);
    const d = await gql(`query($id: ID!, $s: ID!) {
      job(id: $id) { kind status total done failed costUsd inputTokens outputTokens model saeId createdAt startedAt finishedAt
        items { featureIndex status attempts error rawResponse feature { index } } }
      jobs(status: SUCCEEDED, saeId: $s) { id }
    }`, { id: m.explainFeatures.id, s: saeId });
    expect(d.job).toMatchObject({ kind: "explain", status: "SUCCEEDED", total: 5, done: 5, failed: 0, model: "gpt-4o-mini", saeId });
    expect(d.job.costUsd).toBeGreaterThan(0);
    expect(d.job.inputTokens).toBeGreaterThan(0);
    expect(d.job.items.map((i: any) => [i.featureIndex, i.status, i.feature.index])).toEqual([0, 1, 2, 3, 4].map((i) => [i, "DONE", i]));
    expect(d.jobs.map((j: any) => j.id)).toContain(m.explainFeatures.id);

    // The LLM label now leads the unscored offline one.
    const f = (await gql(FEATURE, { s: saeId, i: 1 })).feature;
    expect(f.label).toBe(`the word "${words[1]}"`);
    expect(f.explanations.map((e: any) => e.method)).toEqual(["llm-explain/v1", "token-pattern/v1"]);
    expect(f.explanations[0]).toMatchObject({ promptVersion: "delphi-v1", explainerModel: "gpt-4o-mini", jobId: m.explainFeatures.id });
    expect(f.explanations[0].costUsd).toBeGreaterThan(0);
    expect(f.explanations[1]).toMatchObject({ promptVersion: null, explainerModel: null, costUsd: null });
  });

  it("scores explanations (detection, fuzzing, simulation) and shows them; nothing is scored twice", async () => {
    const { saeId } = await wordSae("score", { tokenLabels: true, explained: [0, 1, 2] });
    const m = await gql(`mutation($s: ID!) { scoreExplanations(saeId: $s, indices: [0, 1, 2], kinds: [DETECTION, FUZZING, SIMULATION]) { id total } }`, { s: saeId });
    expect(m.scoreExplanations.total).toBe(3);
    const job = await t.app.services.autointerp.waitFor(m.scoreExplanations.id);
    expect(job).toMatchObject({ status: "SUCCEEDED", done: 3, failed: 0 });

    const f = (await gql(FEATURE, { s: saeId, i: 0 })).feature;
    const llm = f.explanations.find((e: any) => e.method === "llm-explain/v1");
    const metric = (e: any, kind: string, name: string) => e.scores.find((s: any) => s.kind === kind && s.metric === name)?.value;
    // The fake scorer answers by the explanation's words: a right explanation scores perfectly.
    expect(metric(llm, "detection", "balanced_accuracy")).toBe(1);
    expect(metric(llm, "detection", "f1")).toBe(1);
    expect(metric(llm, "fuzzing", "balanced_accuracy")).toBe(1);
    expect(metric(llm, "simulation", "correlation")).toBeGreaterThan(0.8);
    expect(llm.scores.every((s: any) => s.scorerModel === "gpt-4o-mini")).toBe(true);
    expect(llm.quality).toBe(1);
    expect(f.label).toBe(llm.text);

    const rows = await q<{ n: number; d: number }>`
      SELECT count(*)::int AS n, count(DISTINCT (s.explanation_id, s.kind, s.metric))::int AS d
      FROM explanation_score s JOIN explanation e ON e.id = s.explanation_id WHERE e.sae_id = ${saeId}`;
    expect(rows[0].n).toBe(rows[0].d);
    // Two explanations x (4 detection + 4 fuzzing + 1 simulation) x 3 features.
    expect(rows[0].n).toBe(2 * 9 * 3);
    const details = await q<{ v: any }>`
      SELECT s.details AS v FROM explanation_score s JOIN explanation e ON e.id = s.explanation_id
      WHERE e.sae_id = ${saeId} AND s.kind = 'simulation' LIMIT 1`;
    expect(details[0].v).toMatchObject({ promptVersion: "simulation-v1", usedLogprobs: true });

    const again = await gql(`mutation($s: ID!) { scoreExplanations(saeId: $s, indices: [0, 1, 2], kinds: [DETECTION, FUZZING, SIMULATION]) { total status } }`, { s: saeId });
    expect(again.scoreExplanations).toEqual({ total: 0, status: "SUCCEEDED" });
  });

  it("embeds labels through the embeddings endpoint with their dimension", async () => {
    const { saeId } = await wordSae("embed", { tokenLabels: true, explained: [0, 1, 2, 3, 4] });
    const m = await gql(`mutation($s: ID!) { embedExplanations(saeId: $s) { id total } }`, { s: saeId });
    expect(m.embedExplanations.total).toBe(12);
    expect(await t.app.services.autointerp.waitFor(m.embedExplanations.id)).toMatchObject({ status: "SUCCEEDED", done: 12 });
    const rows = await q<{ dim: number; n: number; norm: number }>`
      SELECT ee.dim, count(*)::int AS n, max(abs(1 - sqrt(-(ee.embedding <#> ee.embedding))))::float8 AS norm
      FROM explanation_embedding ee JOIN explanation e ON e.id = ee.explanation_id
      WHERE e.sae_id = ${saeId} AND ee.embedder = 'openai:text-embedding-3-small' GROUP BY ee.dim`;
    expect(rows).toHaveLength(1);
    expect(rows[0].dim).toBe(64);
    expect(rows[0].n).toBe(12 + 5); // offline labels + LLM labels
    expect(rows[0].norm).toBeLessThan(1e-5);
  });

  it("cancels a queued job at once and a running one after its items in flight", async () => {
    const { saeId } = await wordSae("cancel");
    const queued = await t.app.services.autointerp.create("explain", saeId, { indices: [5, 6] });
    const c = await gql(`mutation($id: ID!) { cancelJob(id: $id) { status } }`, { id: queued.id });
    expect(c.cancelJob.status).toBe("CANCELLED");

    fake.setFaults(() => ({ kind: "delay", ms: 300 }));
    const m = await gql(`mutation($s: ID!) { explainFeatures(saeId: $s) { id total } }`, { s: saeId });
    expect(m.explainFeatures.total).toBe(12); // every alive feature, none labelled by an LLM yet
    const c2 = await gql(`mutation($id: ID!) { cancelJob(id: $id) { id cancelRequested status } }`, { id: m.explainFeatures.id });
    expect(c2.cancelJob.id).toBe(m.explainFeatures.id);
    const job = await t.app.services.autointerp.waitFor(m.explainFeatures.id);
    expect(job!.status).toBe("CANCELLED");
    expect(job!.done).toBeLessThan(12);
    const stored = await q<{ n: number }>`SELECT count(*)::int AS n FROM explanation WHERE job_id = ${m.explainFeatures.id}`;
    expect(stored[0].n).toBe(job!.done);
  });

  it("refuses money-spending mutations from an unauthenticated caller before doing anything", async () => {
    const { saeId } = await wordSae("auth");
    const before = await q<{ n: number }>`SELECT count(*)::int AS n FROM job`;
    const ctx = createContext(t.app, { authenticated: false, clientId: "test" });
    const call = autointerpResolvers.Mutation!.explainFeatures as (...a: unknown[]) => Promise<unknown>;
    await expect(call({}, { saeId: "no/such/sae" }, ctx, {})).rejects.toMatchObject({ code: "UNAUTHENTICATED" });
    const server = createApolloServer(t.app);
    await server.start();
    try {
      for (const op of [`mutation { explainFeatures(saeId: "${saeId}") { id } }`, `mutation { scoreExplanations(saeId: "${saeId}") { id } }`, `mutation { cancelJob(id: "x") { id } }`]) {
        const res = await server.executeOperation({ query: op }, { contextValue: createContext(t.app, { authenticated: false, clientId: "test" }) });
        const body = res.body.kind === "single" ? res.body.singleResult : null;
        expect((body?.errors?.[0]?.extensions as any)?.code).toBe("UNAUTHENTICATED");
      }
    } finally {
      await server.stop();
    }
    const after = await q<{ n: number }>`SELECT count(*)::int AS n FROM job`;
    expect(after[0].n).toBe(before[0].n);
  });

  it("loads labels, explanations and scores for a page of 100 features in the same number of statements as for 10", async () => {
    const { saeId: big } = await seedFeatures(t.app, { saeId: "t/page", modelId: "t-page", n: 120, examples: 2 });
    await t.app.services.autointerp.writeTokenPatternLabels(big);
    const PAGE = `query($s: ID!, $n: Int!) { features(saeId: $s, first: $n) { edges { node {
      label explanations { method text quality scores { kind value } } } } } }`;
    const count = async (n: number) => {
      // The cost limit's stored sizes are read after a write and then kept while nothing is
      // written (modules/sizes): read them first, so both pages count only their own statements.
      await t.app.services.sizes.current();
      const before = t.app.db.stats.statements;
      const d = await gql(PAGE, { s: big, n });
      expect(d.features.edges).toHaveLength(n);
      expect(d.features.edges.every((e: any) => typeof e.node.label === "string")).toBe(true);
      return t.app.db.stats.statements - before;
    };
    const small = await count(10);
    const large = await count(100);
    expect(large).toBe(small);
    expect(large).toBeLessThanOrEqual(6);
  });
});

describe("without an LLM endpoint", () => {
  it("says how to configure one", async () => {
    const bare = await openTestApp();
    try {
      const r = await executeQuery(bare.app, `mutation { explainFeatures(saeId: "x") { id } }`);
      expect((r.errors?.[0] as any)?.extensions?.code).toBe("BAD_USER_INPUT");
      expect((r.errors?.[0] as any)?.message).toMatch(/OPENAI_API_KEY.*OPENAI_BASE_URL/);
    } finally {
      await bare.close();
    }
  });
});
