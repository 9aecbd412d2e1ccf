// Auto-interpretation as jobs: what to explain / score / embed, creating or resuming
// the job, running it (in the foreground for the CLI, in the background for GraphQL
// mutations), and the offline token-pattern labels.
import type { Config } from "../../config.ts";
import { AppError, badInput, conflict, ErrorCode } from "../../errors.ts";
import type { Logger } from "../../logger.ts";
import type { ExamplesService, Selection } from "../explanation/examples.service.ts";
import type { ExplanationService } from "../explanation/explanation.service.ts";
import type { JobRecord } from "../job/job.service.ts";
import { isAbandoned, type JobService, thisRunner } from "../job/job.service.ts";
import type { SaeService } from "../sae/sae.service.ts";
import { type BatchOptions, type BatchRunResult, runExplainBatch } from "./batch.ts";
import { labelSaeOffline } from "./label-offline.ts";
import { TOKEN_PATTERN_METHOD } from "./token-pattern.ts";
import type { LlmClient } from "./llm-client.ts";
import { type JobTask, type RunOptions, type RunResult, runJob } from "./pipeline.ts";
import { CURRENT_EXPLAIN_VERSION, LLM_EXPLAIN_METHOD } from "./prompts/explain.ts";
import { SCORE_KINDS, type ScoreKind } from "./score.ts";
import type { TaskDeps } from "./tasks/common.ts";
import { openaiEmbedderId } from "../search/search.service.ts";
import { embedTask } from "./tasks/embed-task.ts";
import { explainKey, explainTask } from "./tasks/explain-task.ts";
import { scoreKey, scoreTask } from "./tasks/score-task.ts";

export type JobKind = "explain" | "score" | "embed";

export interface JobRequest extends Selection {
  maxCostUsd?: number | null;
  kinds?: readonly ScoreKind[] | null;
  /** Explain through the Batch API (half price, results later). */
  batch?: boolean | null;
}

export interface AutoInterpDeps {
  config: Config;
  llm: LlmClient | null;
  jobs: JobService;
  explanations: ExplanationService;
  examples: ExamplesService;
  sae: SaeService;
  log: Logger;
  /** Called after labels of an SAE were written (e.g. to refresh concept search). */
  onLabelsChanged: ((saeId: string) => Promise<unknown>)[];
}

export class AutoInterpService {
  /** Jobs running in this process (foreground or background). */
  private readonly active = new Map<string, { controller: AbortController; done: Promise<RunResult | null> }>();

  constructor(private readonly deps: AutoInterpDeps) {}

  get llmConfigured(): boolean {
    return this.deps.llm !== null;
  }

  private requireLlm(): LlmClient {
    if (!this.deps.llm)
      throw new AppError(
        ErrorCode.BAD_USER_INPUT,
        "no LLM endpoint is configured: set OPENAI_API_KEY (for OpenAI) and/or OPENAI_BASE_URL (for a local OpenAI-compatible server such as Ollama or vLLM)",
      );
    return this.deps.llm;
  }

  /** The parameters a new job of this kind would run with, and the key that identifies its work. */
  private plan(kind: JobKind, req: JobRequest): { key: string; params: Record<string, unknown> } {
    const llm = this.requireLlm().config;
    if (kind === "explain") {
      const model = llm.explainerModel;
      return { key: explainKey(model, CURRENT_EXPLAIN_VERSION), params: { model, promptVersion: CURRENT_EXPLAIN_VERSION } };
    }
    if (kind === "score") {
      const kinds = [...new Set(req.kinds?.length ? req.kinds : (["detection", "fuzzing"] as ScoreKind[]))];
      for (const k of kinds) if (!SCORE_KINDS.includes(k)) throw badInput(`unknown score kind ${JSON.stringify(k)}; use ${SCORE_KINDS.join(", ")}`);
      return { key: scoreKey(llm.scorerModel, kinds), params: { model: llm.scorerModel, kinds } };
    }
    const embedder = openaiEmbedderId(llm.embeddingModel);
    return { key: `embed|${embedder}`, params: { model: llm.embeddingModel, embedder } };
  }

  private validate(req: JobRequest) {
    if (req.limit != null && (!Number.isInteger(req.limit) || req.limit < 1)) throw badInput("limit must be a positive integer");
    if (req.indices?.some((i) => !Number.isInteger(i) || i < 0)) throw badInput("indices must be non-negative integers");
    if (req.maxCostUsd != null && !(req.maxCostUsd > 0)) throw badInput("maxCost must be a positive number of US dollars");
  }

  /** A new job over the features that still lack this work (and that no live job is doing). */
  async create(kind: JobKind, saeId: string, req: JobRequest = {}): Promise<JobRecord> {
    this.validate(req);
    const { key, params } = this.plan(kind, req);
    await this.deps.sae.requireSae(saeId);
    const busy = new Set<number>();
    for (const j of await this.deps.jobs.live(kind, saeId, key)) {
      for (const it of await this.deps.jobs.allItems(j.id, null)) if (it.status === "PENDING" || it.status === "RUNNING") busy.add(it.featureIndex);
    }
    const sel = { indices: req.indices ?? null, limit: null };
    const ex = this.deps.examples;
    let candidates =
      kind === "explain"
        ? await ex.explainCandidates(saeId, { method: LLM_EXPLAIN_METHOD, promptVersion: params.promptVersion as string, model: params.model as string }, sel)
        : kind === "score"
          ? await ex.scoreCandidates(saeId, params.kinds as string[], params.model as string, sel)
          : await ex.embedCandidates(saeId, params.embedder as string, sel);
    candidates = candidates.filter((i) => !busy.has(i));
    if (req.limit != null) candidates = candidates.slice(0, req.limit);
    if (req.batch && kind !== "explain") throw badInput("batch mode is for explain jobs");
    return this.deps.jobs.create(kind, saeId, { key, ...params, ...(req.batch ? { mode: "batch" } : {}) }, candidates, req.maxCostUsd ?? null);
  }

  /** For the CLI: the unfinished job a crashed run left for this work, else a new one. */
  async resumeOrCreate(kind: JobKind, saeId: string, req: JobRequest = {}): Promise<{ job: JobRecord; resumed: boolean }> {
    this.validate(req);
    const { key } = this.plan(kind, req);
    const old = await this.deps.jobs.resumable(kind, saeId, key);
    if (old) return { job: old, resumed: true };
    return { job: await this.create(kind, saeId, req), resumed: false };
  }

  private task(job: JobRecord): JobTask {
    const deps: TaskDeps = { llm: this.requireLlm(), explanations: this.deps.explanations, examples: this.deps.examples, log: this.deps.log };
    if (job.kind === "explain") return explainTask(deps, job);
    if (job.kind === "score") return scoreTask(deps, job);
    if (job.kind === "embed") return embedTask(deps, job);
    throw badInput(`job ${job.id} is a ${job.kind} job, which auto-interp does not run`);
  }

  /**
   * Runs (or resumes) a job to the end in this process. close() (app shutdown, Ctrl-C)
   * pauses it: items in flight go back to PENDING and the job to QUEUED, for a resume.
   */
  async run(jobId: string, opts: RunOptions = {}): Promise<RunResult> {
    const job = await this.deps.jobs.require(jobId);
    if (job.status === "SUCCEEDED") return { job, stoppedBy: "finished" };
    const batch = job.params.mode === "batch" || typeof job.params.batchId === "string";
    if (!batch && job.status === "RUNNING" && !isAbandoned(job) && !this.active.has(jobId))
      throw conflict(`job ${jobId} is already being run by ${job.runner ?? "another process"}`);
    const controller = new AbortController();
    const outer = opts.signal;
    const forward = () => controller.abort();
    outer?.addEventListener("abort", forward, { once: true });
    if (outer?.aborted) controller.abort();
    const signal = controller.signal;
    const done: Promise<RunResult> = batch
      ? // A batch job: submit if needed, then wait for the batch (close() stops the waiting).
        this.runBatch(jobId, { maxCostUsd: opts.maxCostUsd, restart: opts.restart, wait: true, signal }).then((r) => ({
          job: r.job,
          stoppedBy: r.state === "failed" ? "fatal" : r.state === "pending" ? "aborted" : "finished",
        }))
      : runJob(
          { jobs: this.deps.jobs, runnerId: thisRunner(), concurrency: this.requireLlm().config.concurrency, log: this.deps.log },
          jobId,
          (j) => this.task(j),
          { ...opts, signal },
        );
    this.active.set(jobId, { controller, done: done.catch(() => null) });
    try {
      const result = await done;
      if (!batch && (job.kind === "explain" || job.kind === "embed") && result.job.done > job.done) await this.labelsChanged(job.saeId!);
      return result;
    } finally {
      outer?.removeEventListener("abort", forward);
      this.active.delete(jobId);
    }
  }


  /**
   * Explain through the Batch API: submits the job's pending features as one batch, or
   * (when one is out) polls it and stores its results. `wait` polls until it ends.
   */
  async runBatch(jobId: string, opts: BatchOptions = {}): Promise<BatchRunResult> {
    const job = await this.deps.jobs.require(jobId);
    if (job.kind !== "explain") throw badInput(`job ${jobId} is a ${job.kind} job; batch mode is for explain jobs`);
    if (job.status === "RUNNING" && !isAbandoned(job) && !this.active.has(jobId))
      throw conflict(`job ${jobId} is already being run by ${job.runner ?? "another process"}`);
    if (job.params.mode !== "batch") await this.deps.jobs.setParams(jobId, { mode: "batch" });
    const deps = { llm: this.requireLlm(), jobs: this.deps.jobs, explanations: this.deps.explanations, examples: this.deps.examples, log: this.deps.log };
    const r = await runExplainBatch(deps, jobId, opts);
    if (r.state === "collected" && r.job.done > job.done) await this.labelsChanged(job.saeId!);
    return r;
  }

  /** Starts a job in the background (GraphQL mutations). */
  start(jobId: string): void {
    if (this.active.has(jobId)) return;
    void this.run(jobId).catch((e) => this.deps.log.error(`job ${jobId} failed: ${(e as Error).message}`));
  }

  /**
   * Starts, in the background, every queued job and every job whose runner died (a
   * server's start-up: mutations' jobs paused by a restart carry on). Returns their ids.
   */
  async resumeUnfinished(): Promise<string[]> {
    if (!this.deps.llm) return [];
    const jobs = await this.deps.jobs.orphaned(["explain", "score", "embed"]);
    for (const j of jobs) {
      this.deps.log.info(`resuming ${j.kind} job ${j.id}: ${j.done + j.failed} of ${j.total} finished`);
      this.start(j.id);
    }
    return jobs.map((j) => j.id);
  }

  /** Resolves when a job running in this process stops (at once if none is). */
  async waitFor(jobId: string): Promise<JobRecord | null> {
    // start() registers the run only after its first await: give it that turn.
    for (let i = 0; i < 50 && !this.active.has(jobId); i++) {
      const j = await this.deps.jobs.get(jobId);
      if (!j || (j.status !== "QUEUED" && j.status !== "RUNNING")) return j;
      await new Promise((r) => setTimeout(r, 20));
    }
    await this.active.get(jobId)?.done;
    return this.deps.jobs.get(jobId);
  }

  /** Pauses every job running in this process and waits for them to stop. */
  async close(): Promise<void> {
    const running = [...this.active.values()];
    for (const r of running) r.controller.abort();
    await Promise.all(running.map((r) => r.done));
  }

  /** Offline labels from token statistics (no LLM): method token-pattern/v1. */
  async writeTokenPatternLabels(saeId: string, onProgress?: (done: number, total: number) => void): Promise<{ labelled: number; alive: number }> {
    await this.deps.sae.requireSae(saeId);
    const r = await labelSaeOffline(this.deps.examples, this.deps.explanations, saeId, onProgress);
    await this.labelsChanged(saeId);
    return r;
  }

  /** How many offline labels an SAE has (0 = never labelled; activations do not change after ingest). */
  tokenPatternLabelCount(saeId: string): Promise<number> {
    return this.deps.explanations.countByMethod(saeId, TOKEN_PATTERN_METHOD);
  }

  private async labelsChanged(saeId: string) {
    for (const hook of this.deps.onLabelsChanged) {
      try {
        await hook(saeId);
      } catch (e) {
        this.deps.log.warn(`after writing labels for ${saeId}: ${(e as Error).message}`);
      }
    }
  }
}
