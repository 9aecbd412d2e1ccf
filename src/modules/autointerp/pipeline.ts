// Runs a job's items with bounded concurrency, resumably: items are claimed from the
// database, each outcome is stored as soon as it is known, and a rerun after a crash
// picks up the items that never finished. Spend is tracked per item; with a budget, no
// item starts whose estimated cost could take the job past it.
import type { Logger } from "../../logger.ts";
import type { JobRecord, JobService, Spend } from "../job/job.service.ts";
import { LlmError } from "./llm-client.ts";

export interface ItemResult {
  featureIndex: number;
  status: "DONE" | "FAILED";
  error?: string | null;
  raw?: string | null;
  spend: Spend;
}

export interface PreparedWork {
  /** Upper-bound estimate of what execute() will spend (USD). */
  estimateUsd: number;
  execute(signal: AbortSignal): Promise<ItemResult[]>;
}

export interface JobTask {
  /** Items claimed and processed together (e.g. one embeddings request for many labels). */
  batchSize: number;
  prepare(indices: number[]): Promise<PreparedWork>;
}

export type StopReason = "finished" | "cancelled" | "budget" | "fatal" | "aborted";

export interface RunProgress {
  done: number;
  failed: number;
  total: number;
  costUsd: number;
  inputTokens: number;
  outputTokens: number;
}

export interface RunOptions {
  /** Overrides the job's stored budget (USD). */
  maxCostUsd?: number | null;
  onProgress?: (p: RunProgress) => void;
  /** Aborting pauses the job (QUEUED) for a later resume: process shutdown. */
  signal?: AbortSignal;
  /** Also restart a CANCELLED or FAILED job (an explicit resume). */
  restart?: boolean;
  heartbeatMs?: number;
}

export interface RunResult {
  job: JobRecord;
  stoppedBy: StopReason;
}

export interface RunnerDeps {
  jobs: JobService;
  runnerId: string;
  concurrency: number;
  log: Logger;
}

export async function runJob(deps: RunnerDeps, jobId: string, task: (job: JobRecord) => JobTask, opts: RunOptions = {}): Promise<RunResult> {
  const { jobs, log } = deps;
  const started = await jobs.start(jobId, deps.runnerId, opts.maxCostUsd ?? null, opts.restart ?? false);
  if (!started) {
    // Finished, or cancelled before it began: nothing to run.
    const job = await jobs.get(jobId);
    if (!job) throw new Error(`job ${jobId} not found`);
    return { job, stoppedBy: job.status === "CANCELLED" ? "cancelled" : "finished" };
  }
  const work = task(started);
  const budget = started.maxCostUsd;
  const progress: RunProgress = {
    done: started.done,
    failed: started.failed,
    total: started.total,
    costUsd: started.costUsd,
    inputTokens: started.inputTokens,
    outputTokens: started.outputTokens,
  };
  let reserved = 0;
  let stop: StopReason | null = null;
  let fatal: string | null = null;
  const inner = new AbortController();
  const onAbort = () => {
    stop ??= "aborted";
    inner.abort();
  };
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  if (opts.signal?.aborted) onAbort();

  const beat = setInterval(() => {
    jobs.heartbeat(jobId).then(
      (cancel) => {
        if (cancel) stop ??= "cancelled";
      },
      (e) => log.debug(`heartbeat failed: ${(e as Error).message}`),
    );
  }, opts.heartbeatMs ?? 2_000);

  opts.onProgress?.({ ...progress });
  const worker = async () => {
    while (stop === null) {
      const indices = await jobs.claim(jobId, work.batchSize);
      if (indices.length === 0) return;
      let prepared: PreparedWork;
      try {
        prepared = await work.prepare(indices);
      } catch (e) {
        await jobs.release(jobId, indices);
        throw e;
      }
      if (budget !== null && progress.costUsd + reserved + prepared.estimateUsd > budget) {
        await jobs.release(jobId, indices);
        stop ??= "budget";
        return;
      }
      if (stop !== null) {
        await jobs.release(jobId, indices);
        return;
      }
      reserved += prepared.estimateUsd;
      // A signal per item: the SDK adds a listener per request and never removes it,
      // so one shared signal would collect a listener for every call of the job.
      const item = new AbortController();
      const forward = () => item.abort();
      inner.signal.addEventListener("abort", forward, { once: true });
      let results: ItemResult[];
      try {
        results = await prepared.execute(item.signal);
      } catch (e) {
        if (e instanceof LlmError && (e.fatal || stop === "aborted")) {
          // Not the item's fault: leave it for a rerun (a fixed key, a restarted process).
          await jobs.release(jobId, indices);
          if (e.fatal) {
            stop = "fatal";
            fatal = e.message;
          }
          return;
        }
        throw e;
      } finally {
        reserved -= prepared.estimateUsd;
        inner.signal.removeEventListener("abort", forward);
      }
      for (const r of results) {
        await jobs.finishItem(jobId, r.featureIndex, { status: r.status, error: r.error, raw: r.raw }, r.spend);
        if (r.status === "DONE") progress.done++;
        else progress.failed++;
        progress.costUsd += r.spend.costUsd;
        progress.inputTokens += r.spend.inputTokens;
        progress.outputTokens += r.spend.outputTokens;
      }
      opts.onProgress?.({ ...progress });
    }
  };

  let crash: unknown = null;
  try {
    const outcomes = await Promise.allSettled(Array.from({ length: Math.max(1, deps.concurrency) }, worker));
    crash = outcomes.find((o) => o.status === "rejected")?.reason ?? null;
  } finally {
    clearInterval(beat);
    opts.signal?.removeEventListener("abort", onAbort);
  }
  if (crash) {
    await jobs.finish(jobId, "FAILED", `internal error: ${(crash as Error).message ?? String(crash)}`).catch(() => {});
    throw crash;
  }

  // Workers also stop claiming once a cancel is requested: catch one the heartbeat has not seen yet.
  if ((stop as StopReason | null) === null && (await jobs.heartbeat(jobId))) stop = "cancelled";
  const reason: StopReason = (stop as StopReason | null) ?? "finished";
  let job: JobRecord | null;
  if (reason === "fatal") job = await jobs.finish(jobId, "FAILED", fatal);
  else if (reason === "cancelled") job = await jobs.finish(jobId, "CANCELLED", "cancelled");
  else if (reason === "budget") {
    const left = await jobs.pendingCount(jobId);
    job = await jobs.finish(jobId, "CANCELLED", `stopped at the budget of $${budget}: $${progress.costUsd.toFixed(4)} spent, ${left} item(s) not started`);
  } else if (reason === "aborted") job = await jobs.finish(jobId, "QUEUED", null);
  else {
    const left = await jobs.pendingCount(jobId);
    // Items still pending here belong to another live runner of the same job: leave it to finish.
    job = left === 0 ? await jobs.finish(jobId, "SUCCEEDED", null) : await jobs.get(jobId);
  }
  return { job: job!, stoppedBy: reason };
}
