// `monoscope explain | score | embed`: auto-interpretation jobs from the command line.
// A crashed or interrupted run is resumed by running the same command again; Ctrl-C
// pauses cleanly. Progress on stderr; the summary (tokens, estimated cost) on stdout.
import type { Command } from "commander";
import type { App } from "../../app.ts";
import { formatUsd, SCORE_KINDS, type ScoreKind } from "../../modules/autointerp/autointerp.constants.ts";
import type { JobKind, JobRequest } from "../../modules/autointerp/index.ts";
import { badInput } from "../../errors.ts";
import type { JobRecord } from "../../modules/job/index.ts";
import { createJobProgress } from "../job-progress.ts";
import { intOption, setExitCode, withApp } from "../runtime.ts";

interface JobOptions {
  sae: string;
  limit?: number;
  indices?: number[];
  maxCost?: number;
  kinds?: string;
  job?: string;
  new?: boolean;
  batch?: boolean;
  wait?: boolean;
}

/** "1,2,3" and ranges "10-20". */
export function parseIndices(value: string, prev: number[] = []): number[] {
  const out = [...prev];
  for (const part of value.split(",").map((s) => s.trim()).filter(Boolean)) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw badInput(`--indices: ${JSON.stringify(part)} is not an index or a range like 10-20`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a) throw badInput(`--indices: range ${part} is backwards`);
    if (b - a > 10_000_000) throw badInput(`--indices: range ${part} is too large`);
    for (let i = a; i <= b; i++) out.push(i);
  }
  return out;
}

export function parseUsd(value: string): number {
  const n = Number(value.replace(/^\$/, ""));
  if (value.trim() === "" || !Number.isFinite(n) || n <= 0) throw badInput(`--max-cost must be a positive number of US dollars, got ${JSON.stringify(value)}`);
  return n;
}

export function summary(job: Pick<JobRecord, "id" | "kind" | "status" | "done" | "failed" | "total" | "inputTokens" | "outputTokens" | "costUsd" | "maxCostUsd" | "error">): string {
  const what = job.kind === "explain" ? "labelled" : job.kind === "score" ? "scored" : "embedded";
  const lines = [
    `job ${job.id} ${job.status}: ${job.done} ${what}, ${job.failed} failed, of ${job.total}`,
    `tokens: ${job.inputTokens} input + ${job.outputTokens} output; estimated cost ${formatUsd(job.costUsd)}` +
      (job.maxCostUsd !== null ? ` (budget ${formatUsd(job.maxCostUsd)})` : ""),
  ];
  if (job.error) lines.push(`note: ${job.error}`);
  return lines.join("\n") + "\n";
}

async function runKind(app: App, kind: JobKind, opts: JobOptions): Promise<{ job: JobRecord; note?: string }> {
  const svc = app.services.autointerp;
  const kinds = opts.kinds
    ? opts.kinds.split(",").map((k) => k.trim().toLowerCase()).filter(Boolean)
    : undefined;
  for (const k of kinds ?? []) if (!SCORE_KINDS.includes(k as ScoreKind)) throw badInput(`--kinds: unknown kind ${JSON.stringify(k)}; use ${SCORE_KINDS.join(", ")}`);
  const req: JobRequest = {
    indices: opts.indices ?? null,
    limit: opts.limit ?? null,
    maxCostUsd: opts.maxCost ?? null,
    kinds: kinds as ScoreKind[] | undefined,
    batch: opts.batch ?? null,
  };
  let job: JobRecord;
  if (opts.job) {
    job = await app.services.jobs.require(opts.job);
    if (job.kind !== kind) throw badInput(`job ${job.id} is a ${job.kind} job, not ${kind}`);
    app.log.info(`resuming job ${job.id}: ${job.done + job.failed} of ${job.total} finished`);
  } else if (opts.new) {
    job = await svc.create(kind, opts.sae, req);
  } else {
    const r = await svc.resumeOrCreate(kind, opts.sae, req);
    job = r.job;
    if (r.resumed) app.log.info(`resuming job ${job.id} left unfinished: ${job.done + job.failed} of ${job.total} finished (--new starts a fresh job)`);
  }
  if (job.total === 0) {
    app.log.info(`nothing to ${kind} on ${opts.sae}: every selected feature already has it`);
    return { job };
  }
  if (opts.batch || job.params.mode === "batch" || typeof job.params.batchId === "string") {
    const r = await svc.runBatch(job.id, { maxCostUsd: opts.maxCost ?? null, restart: Boolean(opts.job), wait: opts.wait, pollMs: 30_000 });
    const b = r.batch;
    if (r.state === "submitted")
      return { job: r.job, note: `submitted batch ${b!.id} (${b!.total || r.job.total - r.job.done - r.job.failed} requests, half price); run the same command later to collect the results, or add --wait` };
    if (r.state === "pending") return { job: r.job, note: `batch ${b!.id} is ${b!.status} (${b!.completed}/${b!.total} done); run the same command again later` };
    return { job: r.job };
  }
  if (job.done + job.failed === 0) app.log.info(`job ${job.id}: ${kind} ${job.total} feature(s) of ${job.saeId} with ${String(job.params.model)}`);
  const { createJobProgress } = await import("../job-progress.ts");
  const progress = createJobProgress(kind);
  try {
    const r = await svc.run(job.id, { maxCostUsd: opts.maxCost ?? null, restart: Boolean(opts.job), onProgress: (p) => progress.update(p) });
    return { job: r.job };
  } finally {
    progress.stop();
  }
}

function register(program: Command, kind: JobKind, description: string) {
  const cmd = program
    .command(kind)
    .description(description)
    .requiredOption("--sae <id>", "the SAE whose features to work on")
    .option("--limit <n>", "at most this many features", intOption("--limit", 1))
    .option("--indices <list>", "only these feature indices: 1,2,3 or ranges like 100-199", parseIndices)
    .option("--max-cost <usd>", "stop cleanly before the estimated spend exceeds this many US dollars", parseUsd)
    .option("--job <id>", "resume this job instead of finding or creating one")
    .option("--new", "start a new job even if an interrupted one could be resumed");
  if (kind === "score") cmd.option("--kinds <list>", `score kinds, comma-separated: ${SCORE_KINDS.join(", ")} (default detection,fuzzing)`);
  if (kind === "explain")
    cmd
      .option("--batch", "submit through OpenAI's Batch API (half price, results within 24 h); rerun the command to collect")
      .option("--wait", "with --batch: poll until the batch is done and store its results");
  cmd.action(async (opts: JobOptions, c: Command) => {
    const { job, note } = await withApp(c, (app) => runKind(app, kind, opts));
    if (note) process.stdout.write(`${note}\n`);
    else process.stdout.write(summary(job));
    if (job.status === "FAILED") setExitCode(1);
  });
}

export function registerAutoInterp(program: Command) {
  register(program, "explain", "label features with an LLM (any OpenAI-compatible endpoint); resumable, cost-tracked");
  register(program, "score", "score explanations with an LLM: detection, fuzzing (balanced accuracy, F1) and simulation (correlation)");
  register(program, "embed", "embed labels through the embeddings endpoint, for concept search");
}
