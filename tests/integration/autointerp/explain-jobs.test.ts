// Explain jobs against the fake OpenAI server through the real `openai` client:
// a fault mix ends with every feature labelled or recorded failed, none twice; a
// crashed run resumes without repeating finished items; --max-cost stops cleanly.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { CURRENT_EXPLAIN_VERSION, LLM_EXPLAIN_METHOD } from "../../../src/modules/autointerp/prompts/explain.ts";
import { type FakeOpenAI, faultMix, startFakeOpenAI } from "../../fixtures/fake-openai-server.ts";
import { seedWordSae, WORDS } from "../../helpers/autointerp-seed.ts";
import { openTestApp, type TestApp } from "../../helpers/backend.ts";

let fake: FakeOpenAI;
let t: TestApp;

beforeAll(async () => {
  fake = await startFakeOpenAI();
  t = await openTestApp({
    OPENAI_API_KEY: "sk-test-0123456789abcdefghijklmnop",
    OPENAI_BASE_URL: fake.url,
    MONOSCOPE_LLM_TIMEOUT_MS: "1500",
    MONOSCOPE_LLM_MAX_RETRIES: "4",
    MONOSCOPE_LLM_CONCURRENCY: "4",
  });
});
afterAll(async () => {
  await t?.close();
  await fake?.close();
});
beforeEach(() => {
  fake.setFaults(null);
  fake.requests.length = 0;
});

const q = <T = any>(sql: TemplateStringsArray, ...v: unknown[]) => t.app.db.prisma.$queryRaw<T[]>(sql, ...v);
/** Successful explain answers per highlighted word: what was paid for. */
function paidExplains(): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of fake.requests) {
    if (r.task !== "explain" || r.status !== 200) continue;
    const user = String(r.body.messages.find((m: { role: string }) => m.role === "user")?.content ?? "");
    const w = /<<(\w+)>>/.exec(user)?.[1] ?? "?";
    m.set(w, (m.get(w) ?? 0) + 1);
  }
  return m;
}

describe("explain jobs", () => {
  it("labels every feature through a fault mix, or records it failed with the raw answer; none twice", async () => {
    const { saeId, words } = await seedWordSae(t.app, { saeId: "t/faults", words: WORDS.slice(0, 12), dead: 2 });
    const mix = faultMix();
    // Two features always get an answer without an [EXPLANATION] line.
    fake.setFaults((req) => (/<<(lantern|tundra)>>/.test(req.text) ? { kind: "unparseable" } : mix(req)));
    const svc = t.app.services.autointerp;
    const job = await svc.create("explain", saeId);
    expect(job.total).toBe(12); // the two dead features are not sent
    const r = await svc.run(job.id);

    expect(r.stoppedBy).toBe("finished");
    expect(r.job).toMatchObject({ status: "SUCCEEDED", total: 12, done: 10, failed: 2 });
    const kinds = new Set(fake.requests.map((x) => x.fault?.kind).filter(Boolean));
    expect([...kinds].sort()).toEqual(["bad-json", "non-json", "status", "timeout", "truncated", "unparseable"]);

    const rows = await q<{ idx: number; n: number; text: string }>`
      SELECT feature_idx AS idx, count(*)::int AS n, min(text) AS text FROM explanation WHERE sae_id = ${saeId} GROUP BY feature_idx ORDER BY feature_idx`;
    expect(rows.every((x) => x.n === 1)).toBe(true);
    expect(rows).toHaveLength(10);
    for (const row of rows) expect(row.text).toBe(`the word "${words[row.idx]}"`);

    const items = await q<{ idx: number; status: string; error: string | null; raw: string | null }>`
      SELECT feature_idx AS idx, status, error, raw_response AS raw FROM job_item WHERE job_id = ${job.id} ORDER BY feature_idx`;
    const failed = items.filter((i) => i.status === "FAILED");
    expect(failed.map((i) => words[i.idx]).sort()).toEqual(["lantern", "tundra"]);
    for (const f of failed) {
      expect(f.raw).toMatch(/not sure what this feature does/);
      expect(f.error).toMatch(/EXPLANATION/);
    }
    // Every feature ends labelled or failed.
    const labelled = new Set(rows.map((x) => x.idx));
    for (const i of items) expect(labelled.has(i.idx) !== (i.status === "FAILED")).toBe(true);

    // Paid once per labelled feature; an unparseable one is asked exactly twice.
    const paid = paidExplains();
    for (const w of words) expect(paid.get(w), w).toBe(w === "lantern" || w === "tundra" ? 2 : 1);

    // Tokens and cost are stored on each label and summed on the job.
    const sums = await q<{ cost: number; inTok: number; n: number }>`
      SELECT sum(cost_usd)::float8 AS cost, sum(input_tokens)::int AS "inTok", count(*) FILTER (WHERE cost_usd > 0)::int AS n
      FROM explanation WHERE sae_id = ${saeId}`;
    expect(sums[0].n).toBe(10);
    expect(r.job.costUsd).toBeGreaterThan(sums[0].cost); // plus what the failed ones cost
    expect(r.job.inputTokens).toBeGreaterThan(sums[0].inTok);
    const meta = await q<{ method: string; pv: string; model: string }>`
      SELECT DISTINCT method, prompt_version AS pv, explainer_model AS model FROM explanation WHERE sae_id = ${saeId}`;
    expect(meta).toEqual([{ method: LLM_EXPLAIN_METHOD, pv: CURRENT_EXPLAIN_VERSION, model: "gpt-4o-mini" }]);

    // A second run only retries the two failures: nothing labelled is paid for again.
    fake.requests.length = 0;
    fake.setFaults(null);
    const again = await svc.create("explain", saeId);
    expect(again.total).toBe(2);
    await svc.run(again.id);
    expect([...paidExplains().keys()].sort()).toEqual(["lantern", "tundra"]);
    const total = await q<{ n: number }>`SELECT count(*)::int AS n FROM explanation WHERE sae_id = ${saeId}`;
    expect(total[0].n).toBe(12);
  });

  it("resumes a crashed run without repeating finished items", async () => {
    const { saeId, words } = await seedWordSae(t.app, { saeId: "t/crash", words: WORDS.slice(0, 8) });
    const svc = t.app.services.autointerp;
    const { job, resumed } = await svc.resumeOrCreate("explain", saeId);
    expect(resumed).toBe(false);
    // Run until three items are done, then stop the process's runner abruptly.
    const stop = new AbortController();
    await svc.run(job.id, { onProgress: (p) => p.done >= 3 && stop.abort(), signal: stop.signal });
    const doneBefore = (await q<{ idx: number }>`SELECT feature_idx AS idx FROM job_item WHERE job_id = ${job.id} AND status = 'DONE'`).map((r) => r.idx);
    expect(doneBefore.length).toBeGreaterThanOrEqual(3);
    // What a killed process leaves: the job RUNNING under a dead runner, an item in flight.
    const inFlight = (await q<{ idx: number }>`SELECT min(feature_idx) AS idx FROM job_item WHERE job_id = ${job.id} AND status = 'PENDING'`)[0].idx;
    await t.app.db.prisma.$executeRaw`UPDATE job SET status = 'RUNNING', runner = 'gone-host:1', heartbeat_at = now() - interval '10 minutes' WHERE id = ${job.id}`;
    await t.app.db.prisma.$executeRaw`UPDATE job_item SET status = 'RUNNING', attempts = attempts + 1 WHERE job_id = ${job.id} AND feature_idx = ${inFlight}`;

    fake.requests.length = 0;
    const again = await svc.resumeOrCreate("explain", saeId);
    expect(again).toMatchObject({ resumed: true, job: { id: job.id } });
    const r = await svc.run(job.id);
    expect(r.job).toMatchObject({ status: "SUCCEEDED", done: 8, failed: 0 });
    // Finished items are never asked again; the rest (the one in flight included) are.
    const paid = paidExplains();
    words.forEach((w, i) => {
      if (doneBefore.includes(i)) expect(paid.has(w), w).toBe(false);
      else expect(paid.get(w), w).toBeGreaterThanOrEqual(1);
    });
    const counts = await q<{ n: number; d: number }>`
      SELECT count(*)::int AS n, count(DISTINCT feature_idx)::int AS d FROM explanation WHERE sae_id = ${saeId}`;
    expect(counts[0]).toEqual({ n: 8, d: 8 });
  });

  it("stops cleanly at --max-cost and a later run finishes the rest", async () => {
    const { saeId } = await seedWordSae(t.app, { saeId: "t/budget", words: WORDS.slice(0, 10) });
    const svc = t.app.services.autointerp;
    const budget = 0.0012;
    const job = await svc.create("explain", saeId, { maxCostUsd: budget });
    const r = await svc.run(job.id);
    expect(r.stoppedBy).toBe("budget");
    expect(r.job.status).toBe("CANCELLED");
    expect(r.job.error).toMatch(/budget of \$0\.0012/);
    expect(r.job.costUsd).toBeGreaterThan(0);
    expect(r.job.costUsd).toBeLessThanOrEqual(budget);
    expect(r.job.done).toBeGreaterThan(0);
    expect(r.job.done).toBeLessThan(10);
    const stored = await q<{ n: number }>`SELECT count(*)::int AS n FROM explanation WHERE sae_id = ${saeId}`;
    expect(stored[0].n).toBe(r.job.done);
    const pending = await q<{ n: number }>`SELECT count(*)::int AS n FROM job_item WHERE job_id = ${job.id} AND status = 'PENDING'`;
    expect(pending[0].n).toBe(10 - r.job.done);

    const rest = await svc.create("explain", saeId);
    expect(rest.total).toBe(10 - r.job.done);
    expect((await svc.run(rest.id)).job.status).toBe("SUCCEEDED");
  });

  it("picks up queued jobs and jobs whose runner died when a server starts", async () => {
    const { saeId } = await seedWordSae(t.app, { saeId: "t/restart", words: WORDS.slice(12, 16) });
    const svc = t.app.services.autointerp;
    const queued = await svc.create("explain", saeId, { indices: [0, 1] });
    const orphan = await svc.create("explain", saeId, { indices: [2, 3] });
    await t.app.db.prisma.$executeRaw`UPDATE job SET status = 'RUNNING', runner = 'gone-host:1', heartbeat_at = now() - interval '10 minutes' WHERE id = ${orphan.id}`;
    const ids = await svc.resumeUnfinished();
    expect(ids).toEqual(expect.arrayContaining([queued.id, orphan.id]));
    for (const id of [queued.id, orphan.id]) expect(await svc.waitFor(id)).toMatchObject({ status: "SUCCEEDED", done: 2 });
  });

  it("fails the job on a bad key without failing its items, and leaks no secret", async () => {
    const { saeId } = await seedWordSae(t.app, { saeId: "t/badkey", words: WORDS.slice(0, 3) });
    fake.setFaults(() => ({ kind: "echo-auth" }));
    const svc = t.app.services.autointerp;
    const job = await svc.create("explain", saeId);
    const r = await svc.run(job.id);
    expect(r.stoppedBy).toBe("fatal");
    expect(r.job.status).toBe("FAILED");
    expect(r.job.error).toMatch(/HTTP 401/);
    expect(r.job.error).not.toContain("0123456789abcdefghijklmnop");
    expect(r.job.failed).toBe(0);
    const pending = await q<{ n: number }>`SELECT count(*)::int AS n FROM job_item WHERE job_id = ${job.id} AND status = 'PENDING'`;
    expect(pending[0].n).toBe(3);
  });
});
