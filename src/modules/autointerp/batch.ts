// Explain jobs through OpenAI's Batch API: half the price, results within 24 hours.
// One call submits the job's pending features as one batch (its id is kept in the
// job); later calls (the same command again, or --wait) poll it and store the results.
// An answer that does not parse is recorded as a failure (a normal run re-asks).
import type { Logger } from "../../logger.ts";
import type { ExamplesService } from "../explanation/examples.service.ts";
import type { ExplanationService } from "../explanation/explanation.service.ts";
import type { JobRecord, JobService } from "../job/job.service.ts";
import { BATCH_RUNNER_PREFIX } from "../job/job.service.ts";
import { splitExamples } from "./examples.ts";
import { type BatchInfo, chatResultFromBody, type LlmClient, LlmError } from "./llm-client.ts";
import { estimateCost, estimateCostBefore } from "./pricing.ts";
import { explainTemplate, LLM_EXPLAIN_METHOD, parseExplanation } from "./prompts/explain.ts";
import { noSpend, toExample } from "./tasks/common.ts";
import type { ExplainParams } from "./tasks/explain-task.ts";

/** Batch API prices are half the synchronous ones. */
export const BATCH_DISCOUNT = 0.5;
/** OpenAI's per-batch request limit; more pending items go in a later batch. */
const MAX_BATCH_REQUESTS = 50_000;
const IN_PROGRESS = new Set(["validating", "in_progress", "finalizing", "cancelling"]);

export interface BatchDeps {
  llm: LlmClient;
  jobs: JobService;
  explanations: ExplanationService;
  examples: ExamplesService;
  log: Logger;
}

export interface BatchOptions {
  maxCostUsd?: number | null;
  restart?: boolean;
  /** Keep polling until the batch ends (else return after submitting or one poll). */
  wait?: boolean;
  pollMs?: number;
  sleep?: (ms: number) => Promise<void>;
  signal?: AbortSignal;
}

export type BatchState = "submitted" | "pending" | "collected" | "nothing" | "failed";

export interface BatchRunResult {
  job: JobRecord;
  state: BatchState;
  batch?: BatchInfo;
}

function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

const featureOf = (customId: unknown) => {
  const m = /^feature-(\d+)$/.exec(String(customId));
  return m ? Number(m[1]) : null;
};

export async function runExplainBatch(deps: BatchDeps, jobId: string, opts: BatchOptions = {}): Promise<BatchRunResult> {
  const { jobs } = deps;
  let job = (await jobs.get(jobId))!;
  let batchId = typeof job.params.batchId === "string" ? job.params.batchId : null;
  if (!batchId) {
    const submitted = await submit(deps, job, opts);
    if (submitted.state !== "submitted") return submitted;
    batchId = submitted.batch!.id;
    if (!opts.wait) return submitted;
  }
  const sleep = opts.sleep ?? ((ms: number) => abortableSleep(ms, opts.signal));
  for (;;) {
    const info = await deps.llm.batchStatus(batchId);
    if (IN_PROGRESS.has(info.status)) {
      await jobs.heartbeat(jobId);
      if (!opts.wait || opts.signal?.aborted) return { job: (await jobs.get(jobId))!, state: "pending", batch: info };
      await sleep(opts.pollMs ?? 30_000);
      continue;
    }
    if (info.status !== "completed") {
      // failed / expired / cancelled: the features go back to PENDING for another try.
      const running = (await jobs.allItems(jobId, "RUNNING")).map((i) => i.featureIndex);
      await jobs.release(jobId, running);
      await jobs.setParams(jobId, { batchId: null });
      job = (await jobs.finish(jobId, "FAILED", `batch ${batchId} ended ${info.status}; rerun to submit its features again`))!;
      return { job, state: "failed", batch: info };
    }
    await collect(deps, job, info);
    await jobs.setParams(jobId, { batchId: null });
    const left = await jobs.pendingCount(jobId);
    job = (await jobs.get(jobId))!;
    if (left === 0) job = (await jobs.finish(jobId, "SUCCEEDED", null))!;
    else if (typeof job.params.budgetNote === "string") job = (await jobs.finish(jobId, "CANCELLED", job.params.budgetNote))!;
    return { job, state: "collected", batch: info };
  }
}

/** Claims the pending features, builds one request per feature and submits them as a batch. */
async function submit(deps: BatchDeps, job: JobRecord, opts: BatchOptions): Promise<BatchRunResult> {
  const { jobs } = deps;
  const started = await jobs.start(job.id, `${BATCH_RUNNER_PREFIX}submitting`, opts.maxCostUsd ?? null, opts.restart ?? false);
  if (!started) return { job, state: "nothing" };
  const params = started.params as unknown as ExplainParams;
  const template = explainTemplate(params.promptVersion);
  const saeId = started.saeId!;
  const indices = await jobs.claim(job.id, MAX_BATCH_REQUESTS);
  const lines: string[] = [];
  const chosen: number[] = [];
  let estimate = 0;
  let budgetNote: string | null = null;
  for (let k = 0; k < indices.length; k++) {
    const idx = indices[k];
    if (await deps.explanations.find(saeId, idx, LLM_EXPLAIN_METHOD, params.promptVersion, params.model)) {
      await jobs.finishItem(job.id, idx, { status: "DONE" }, noSpend());
      continue;
    }
    const { train } = splitExamples((await deps.examples.examplesOf(saeId, idx)).map(toExample));
    if (train.length === 0) {
      await jobs.finishItem(job.id, idx, { status: "FAILED", error: "no activating examples" }, noSpend());
      continue;
    }
    const messages = template.build(train);
    const e = BATCH_DISCOUNT * estimateCostBefore(params.model, messages.reduce((s, m) => s + m.content.length, 0), template.maxOutputTokens);
    if (started.maxCostUsd !== null && started.costUsd + estimate + e > started.maxCostUsd) {
      await jobs.release(job.id, indices.slice(k));
      budgetNote = `stopped at the budget of $${started.maxCostUsd}: ${indices.length - k} item(s) not submitted`;
      break;
    }
    estimate += e;
    chosen.push(idx);
    const body = { model: params.model, messages, max_tokens: template.maxOutputTokens, temperature: 0 };
    lines.push(JSON.stringify({ custom_id: `feature-${idx}`, method: "POST", url: "/v1/chat/completions", body }));
  }
  if (budgetNote) await jobs.setParams(job.id, { budgetNote });
  if (chosen.length === 0) {
    const left = await jobs.pendingCount(job.id);
    const done = left === 0 ? await jobs.finish(job.id, "SUCCEEDED", null) : await jobs.finish(job.id, "CANCELLED", budgetNote);
    return { job: done!, state: "nothing" };
  }
  let batch: BatchInfo;
  try {
    batch = await deps.llm.submitBatch(lines.join("\n") + "\n");
  } catch (e) {
    await jobs.release(job.id, chosen);
    const message = e instanceof LlmError ? e.message : `batch submission failed: ${(e as Error).message}`;
    return { job: (await jobs.finish(job.id, "FAILED", message))!, state: "failed" };
  }
  await jobs.setParams(job.id, { batchId: batch.id, mode: "batch" });
  await jobs.setRunner(job.id, `${BATCH_RUNNER_PREFIX}${batch.id}`);
  deps.log.info(`submitted batch ${batch.id}: ${chosen.length} feature(s), estimated at most $${estimate.toFixed(4)} (batch price)`);
  return { job: (await jobs.get(job.id))!, state: "submitted", batch };
}

/** Stores every result line of a completed batch; features without one are recorded failed. */
async function collect(deps: BatchDeps, job: JobRecord, info: BatchInfo): Promise<void> {
  const { jobs } = deps;
  const params = job.params as unknown as ExplainParams;
  const saeId = job.saeId!;
  const text = [info.outputFileId ? await deps.llm.fileText(info.outputFileId) : "", info.errorFileId ? await deps.llm.fileText(info.errorFileId) : ""].join("\n");
  const seen = new Set<number>();
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    let row: { custom_id?: unknown; response?: { status_code?: number; body?: unknown } | null; error?: { message?: string } | null };
    try {
      row = JSON.parse(line);
    } catch {
      continue;
    }
    const idx = featureOf(row.custom_id);
    if (idx === null || seen.has(idx)) continue;
    seen.add(idx);
    const res = row.response?.status_code === 200 ? chatResultFromBody(row.response.body) : null;
    if (!res) {
      const why = row.error?.message ?? (row.response ? `HTTP ${row.response.status_code}` : "no response");
      await jobs.finishItem(job.id, idx, { status: "FAILED", error: `batch request failed: ${why}` }, noSpend());
      continue;
    }
    const costUsd = BATCH_DISCOUNT * estimateCost(params.model, res.usage);
    const spend = { ...res.usage, costUsd };
    const explanation = parseExplanation(res.text);
    if (explanation === null) {
      const error = "no [EXPLANATION] line in the answer (batch mode does not re-ask; a normal run retries)";
      await jobs.finishItem(job.id, idx, { status: "FAILED", error, raw: res.text }, spend);
      continue;
    }
    await deps.explanations.insert({
      saeId,
      featureIndex: idx,
      text: explanation,
      method: LLM_EXPLAIN_METHOD,
      promptVersion: params.promptVersion,
      explainerModel: params.model,
      inputTokens: res.usage.inputTokens,
      outputTokens: res.usage.outputTokens,
      costUsd,
      jobId: job.id,
    });
    await jobs.finishItem(job.id, idx, { status: "DONE" }, spend);
  }
  for (const item of await jobs.allItems(job.id, "RUNNING"))
    if (!seen.has(item.featureIndex)) await jobs.finishItem(job.id, item.featureIndex, { status: "FAILED", error: "no result in the batch output" }, noSpend());
}
