// Human labels (Mutation.addExplanation) on both backends: every label kept, the label rule
// (best score first; among unscored labels a human one), validation that writes nothing,
// and new labels becoming searchable.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { executeQuery } from "../../../src/graphql/execute.ts";
import { openTestApp, type TestApp } from "../../helpers/backend.ts";
import { seedFeatures } from "../../helpers/feature-seed.ts";

let t: TestApp;
let saeId: string;

beforeAll(async () => {
  t = await openTestApp();
  ({ saeId } = await seedFeatures(t.app, { n: 8, examples: 1 }));
  await seedFeatures(t.app, { saeId: "test-model/hidden", n: 2, examples: 0, status: "loading" });
  await t.app.db.prisma.$executeRaw`
    INSERT INTO explanation (sae_id, feature_idx, text, method) VALUES
      (${saeId}, 1, 'imported label one', 'imported'), (${saeId}, 2, 'imported label two', 'imported'),
      (${saeId}, 2, 'offline pattern two', 'token-pattern/v1')`;
});
afterAll(async () => t?.close());

const q = (query: string, variables?: Record<string, unknown>) => executeQuery(t.app, query, variables);
const codes = (r: { errors?: readonly unknown[] }) => (r.errors ?? []).map((e) => (e as { extensions?: { code?: string } }).extensions?.code);
const messages = (r: { errors?: readonly unknown[] }) => (r.errors ?? []).map((e) => (e as { message: string }).message);
const data = (r: { data?: unknown; errors?: readonly unknown[] }) => {
  expect(r.errors).toBeUndefined();
  return r.data as any;
};
const ADD = `mutation($s: ID!, $i: Int!, $t: String!) { addExplanation(saeId: $s, index: $i, text: $t) { id text method explainerModel promptVersion quality scores { kind } feature { id } } }`;
const FEATURE = `query($s: ID!, $i: Int!) { feature(saeId: $s, index: $i) { label explanations { text method } } }`;
const count = async () => (await t.app.db.prisma.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM explanation`)[0]!.n;

describe("Mutation.addExplanation", () => {
  it("keeps every human label, and a human one is the label among unscored ones", async () => {
    const a = data(await q(ADD, { s: saeId, i: 1, t: "  brigade words " })).addExplanation;
    expect(a).toEqual({ id: expect.any(String), text: "brigade words", method: "human", explainerModel: null, promptVersion: null, quality: null, scores: [], feature: { id: `${saeId}:1` } });
    const b = data(await q(ADD, { s: saeId, i: 1, t: "military units" })).addExplanation;
    // The same text twice is two labels too: none overwrites another.
    const c = data(await q(ADD, { s: saeId, i: 1, t: "military units" })).addExplanation;
    expect(new Set([a.id, b.id, c.id]).size).toBe(3);
    const f = data(await q(FEATURE, { s: saeId, i: 1 })).feature;
    expect(f.explanations.map((e: any) => [e.method, e.text])).toEqual([
      ["human", "military units"],
      ["human", "military units"],
      ["human", "brigade words"],
      ["imported", "imported label one"],
    ]);
    expect(f.label).toBe("military units");
  });

  it("leaves the label to the best-scored explanation", async () => {
    const rows = await t.app.db.prisma.$queryRaw<{ id: bigint }[]>`
      SELECT id FROM explanation WHERE sae_id = ${saeId} AND feature_idx = 2 AND method = 'imported'`;
    await t.app.db.prisma.$executeRaw`
      INSERT INTO explanation_score (sae_id, explanation_id, kind, metric, value) VALUES (${saeId}, ${rows[0]!.id}, 'detection', 'balanced_accuracy', 0.8)`;
    data(await q(ADD, { s: saeId, i: 2, t: "a human guess" }));
    const f = data(await q(FEATURE, { s: saeId, i: 2 })).feature;
    expect(f.label).toBe("imported label two");
    expect(f.explanations.map((e: any) => e.method)).toEqual(["imported", "human", "token-pattern/v1"]);
  });

  it("refuses bad text and unknown features with a clear error, writing nothing", async () => {
    const before = await count();
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ s: saeId, i: 3, t: "   " }, "BAD_USER_INPUT", /text must not be empty/],
      [{ s: saeId, i: 3, t: "x".repeat(1001) }, "BAD_USER_INPUT", /text must be at most 1000 characters/],
      [{ s: saeId, i: 3, t: "nul\u0000byte" }, "BAD_USER_INPUT", /\$t contains a NUL character/],
      [{ s: saeId, i: -1, t: "ok" }, "BAD_USER_INPUT", /index must be a non-negative integer/],
      [{ s: saeId, i: 8, t: "ok" }, "NOT_FOUND", /has no feature 8/],
      [{ s: "no/such", i: 0, t: "ok" }, "NOT_FOUND", /no SAE with id no\/such/],
      [{ s: "test-model/hidden", i: 0, t: "ok" }, "NOT_FOUND", /no SAE with id test-model\/hidden/],
    ];
    for (const [vars, code, msg] of cases) {
      const r = await q(ADD, vars);
      expect(codes(r), JSON.stringify(vars).slice(0, 80)).toEqual([code]);
      expect(messages(r)[0]).toMatch(msg);
    }
    expect(await count()).toBe(before);
  });

  it("makes the new label searchable", async () => {
    const search = `query($q: String!, $s: [ID!]) { searchConcepts(query: $q, saeIds: $s, mode: LEXICAL, k: 5) { feature { index } matchedText } }`;
    const before = data(await q(search, { q: "zeppelin", s: [saeId] })).searchConcepts;
    expect(before).toEqual([]);
    data(await q(ADD, { s: saeId, i: 5, t: "zeppelin airships" }));
    const after = data(await q(search, { q: "zeppelin", s: [saeId] })).searchConcepts;
    expect(after[0]).toEqual({ feature: { index: 5 }, matchedText: "zeppelin airships" });
  });

  it("reindexes only the labelled feature: other features' search documents stay as they were", async () => {
    await t.app.services.search.indexSae(saeId);
    const docs = () =>
      t.app.db.prisma.$queryRaw<{ id: bigint; idx: number; label: string }[]>`
        SELECT id, feature_idx AS idx, label FROM search_document WHERE sae_id = ${saeId} ORDER BY feature_idx, id`;
    const before = await docs();
    data(await q(ADD, { s: saeId, i: 6, t: "quokka habitats" }));
    const after = await docs();
    // Rows of every other feature are the very same rows (same ids), not rebuilt ones.
    expect(after.filter((d) => d.idx !== 6)).toEqual(before.filter((d) => d.idx !== 6));
    expect(after.filter((d) => d.idx === 6).map((d) => d.label)).toContain("quokka habitats");
    expect(after.filter((d) => d.idx === 6).every((d) => before.every((b) => b.id !== d.id))).toBe(true);
    const search = `query($q: String!, $s: [ID!]) { searchConcepts(query: $q, saeIds: $s, mode: LEXICAL, k: 5) { feature { index } matchedText } }`;
    expect(data(await q(search, { q: "quokka", s: [saeId] })).searchConcepts[0]).toEqual({ feature: { index: 6 }, matchedText: "quokka habitats" });
  });

  it("is searchable by method", async () => {
    const r = data(await q(`query($s: [ID!]) { searchConcepts(query: "brigade", saeIds: $s, mode: LEXICAL, labelMethod: "human") { feature { index } } }`, { s: [saeId] }));
    expect(r.searchConcepts.map((h: any) => h.feature.index)).toContain(1);
  });
});
