// Batch mode: explain jobs through OpenAI's Batch API (files + batches endpoints of the
// fake server): submit, poll while in progress, collect at half price; unparseable
// answers recorded as failures; the mutation's background run waits for the batch.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { BATCH_DISCOUNT } from "../../../src/modules/autointerp/batch.ts";
import { estimateCost } from "../../../src/modules/autointerp/pricing.ts";
import { executeQuery } from "../../../src/graphql/execute.ts";
import { type FakeOpenAI, startFakeOpenAI } from "../../fixtures/fake-openai-server.ts";
import { seedWordSae, WORDS } from "../../helpers/autointerp-seed.ts";
import { openTestApp, type TestApp } from "../../helpers/backend.ts";

let fake: FakeOpenAI;
let t: TestApp;

beforeAll(async () => {
  fake = await startFakeOpenAI();
  t = await openTestApp({ OPENAI_API_KEY: "sk-test-0123456789abcdefghijklmnop", OPENAI_BASE_URL: fake.url });
});
afterAll(async () => {
  await t?.close();
  await fake?.close();
});
beforeEach(() => {
  fake.requests.length = 0;
  fake.setFaults(null);
});

const q = <T = any>(sql: TemplateStringsArray, ...v: unknown[]) => t.app.db.prisma.$queryRaw<T[]>(sql, ...v);

describe("batch mode", () => {
  it("submits, reports progress, then collects results at half price", async () => {
    fake.setOptions({ batchPolls: 1 });
    fake.setFaults((req) => (/<<comet>>/.test(req.text) ? { kind: "unparseable" } : null));
    const { saeId, words } = await seedWordSae(t.app, { saeId: "t/batch", words: WORDS.slice(0, 6) });
    const svc = t.app.services.autointerp;
    const job = await svc.create("explain", saeId, { batch: true });

    const submitted = await svc.runBatch(job.id);
    expect(submitted.state).toBe("submitted");
    expect(submitted.job.status).toBe("RUNNING");
    expect(submitted.job.runner).toBe(`batch:${submitted.batch!.id}`);
    expect(submitted.batch!.total).toBe(6);

    // A rerun soon after finds the same job (nobody runs it: the batch does).
    expect((await svc.resumeOrCreate("explain", saeId)).job.id).toBe(job.id);
    const pending = await svc.runBatch(job.id);
    expect(pending).toMatchObject({ state: "pending", batch: { status: "in_progress" } });

    const collected = await svc.runBatch(job.id);
    expect(collected.state).toBe("collected");
    expect(collected.job).toMatchObject({ status: "SUCCEEDED", total: 6, done: 5, failed: 1 });
    expect(fake.requests.some((r) => r.task === "explain")).toBe(false); // nothing synchronous
    expect(fake.requests.map((r) => r.task)).toEqual(["file-upload", "batch-create", "batch-status", "batch-status", "file-content"]);

    const rows = await q<{ idx: number; text: string; cost: number; inTok: number; outTok: number }>`
      SELECT feature_idx AS idx, text, cost_usd AS cost, input_tokens AS "inTok", output_tokens AS "outTok"
      FROM explanation WHERE sae_id = ${saeId} ORDER BY feature_idx`;
    expect(rows.map((r) => r.idx)).toEqual([0, 1, 2, 3, 4]);
    for (const r of rows) {
      expect(r.text).toBe(`the word "${words[r.idx]}"`);
      expect(r.cost).toBeCloseTo(BATCH_DISCOUNT * estimateCost("gpt-4o-mini", { inputTokens: r.inTok, outputTokens: r.outTok }), 12);
    }
    const failed = await q<{ error: string; raw: string }>`SELECT error, raw_response AS raw FROM job_item WHERE job_id = ${job.id} AND status = 'FAILED'`;
    expect(failed).toHaveLength(1);
    expect(failed[0].error).toMatch(/EXPLANATION/);
    expect(failed[0].raw).toMatch(/not sure/);
  });

  it("runs a batch job from the explainFeatures mutation to the end in the background", async () => {
    fake.setOptions({ batchPolls: 0 });
    const { saeId } = await seedWordSae(t.app, { saeId: "t/batch2", words: WORDS.slice(6, 9) });
    const r = await executeQuery(t.app, `mutation($s: ID!) { explainFeatures(saeId: $s, batch: true) { id total } }`, { s: saeId });
    expect(r.errors).toBeUndefined();
    const id = (r.data as any).explainFeatures.id;
    expect(await t.app.services.autointerp.waitFor(id)).toMatchObject({ status: "SUCCEEDED", done: 3 });
  });
});
