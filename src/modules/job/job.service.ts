// Rules for jobs: creation with their items, reading, cancelling, and recognising a
// job whose runner died (so it can be resumed instead of left RUNNING forever).
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { notFound } from "../../errors.ts";
import { checkPageSize, DEFAULT_LIMITS, type RequestLimits } from "../../shared/limits.ts";
import type { ItemStatus, JobItemRecord, JobRecord, JobRepository, JobStatus } from "./job.repository.ts";

export { JobStatus } from "./job.repository.ts";
export type { ItemStatus, JobItemRecord, JobRecord, Spend } from "./job.repository.ts";

/** A runner that has not beaten for this long is presumed dead. */
export const STALE_AFTER_MS = 60_000;

export const thisRunner = () => `${hostname()}:${process.pid}`;
/** The runner of a job waiting on a Batch API batch: "batch:<batch id>". */
export const BATCH_RUNNER_PREFIX = "batch:";

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** RUNNING, but its runner is gone: a process on this host that no longer exists, or no heartbeat for a minute. */
export function isAbandoned(job: JobRecord, now = Date.now()): boolean {
  if (job.status !== "RUNNING") return false;
  // Waiting on a Batch API batch: no process runs it; whoever comes next collects it.
  if (job.runner?.startsWith(BATCH_RUNNER_PREFIX)) return true;
  return runnerGone(job.runner, job.heartbeatAt ?? job.startedAt ?? job.createdAt, now);
}

/** Whether a "host:pid" runner has stopped: a process on this host that no longer exists, or no heartbeat for a minute. */
export function runnerGone(runner: string | null, lastBeat: Date, now = Date.now()): boolean {
  if (runner) {
    const [host, pid] = [runner.slice(0, runner.lastIndexOf(":")), Number(runner.slice(runner.lastIndexOf(":") + 1))];
    if (host === hostname() && Number.isInteger(pid)) {
      if (pid === process.pid) return false;
      if (!pidAlive(pid)) return true;
    }
  }
  return now - lastBeat.getTime() > STALE_AFTER_MS;
}

export class JobService {
  constructor(
    private readonly repo: JobRepository,
    private readonly limits: RequestLimits = DEFAULT_LIMITS,
  ) {}

  async create(kind: string, saeId: string, params: Record<string, unknown>, items: readonly number[], maxCostUsd: number | null): Promise<JobRecord> {
    const id = `job_${new Date().toISOString().slice(0, 10).replaceAll("-", "")}_${randomBytes(5).toString("hex")}`;
    return this.repo.create({ id, kind, saeId, params, maxCostUsd }, items);
  }

  get(id: string): Promise<JobRecord | null> {
    return this.repo.get(id);
  }

  async require(id: string): Promise<JobRecord> {
    const j = await this.repo.get(id);
    if (!j) throw notFound(`job ${JSON.stringify(id)} not found`);
    return j;
  }

  list(filter: { status?: JobStatus | null; saeId?: string | null; kind?: string | null }, first: number): Promise<JobRecord[]> {
    return this.repo.list(filter, checkPageSize(this.limits, first));
  }

  /** A page of a job's items, as a client asks for it (the page size is checked). */
  items(jobId: string, status: ItemStatus | null, first: number): Promise<JobItemRecord[]> {
    return this.repo.items(jobId, status, checkPageSize(this.limits, first));
  }

  /** Every item of a job in this status, for the job's own runner (no client page limit applies). */
  allItems(jobId: string, status: ItemStatus | null): Promise<JobItemRecord[]> {
    return this.repo.items(jobId, status, 2_147_483_647);
  }

  /** The newest unfinished job of this kind on this SAE that nobody is running (queued, or its runner died). */
  async resumable(kind: string, saeId: string, key: string): Promise<JobRecord | null> {
    for (const j of await this.repo.unfinished(kind, saeId)) {
      if (j.params.key !== key) continue;
      if (j.status === "QUEUED" || isAbandoned(j)) return j;
    }
    return null;
  }

  /** Queued jobs and jobs whose runner died, of these kinds: what a restarted server picks up. */
  async orphaned(kinds: readonly string[]): Promise<JobRecord[]> {
    return (await this.repo.unfinishedOfKinds(kinds)).filter((j) => j.status === "QUEUED" || isAbandoned(j));
  }

  /** Unfinished jobs of this kind and key whose items are spoken for: a live runner's, or a pending batch's. */
  async live(kind: string, saeId: string, key: string): Promise<JobRecord[]> {
    return (await this.repo.unfinished(kind, saeId)).filter(
      (j) => j.params.key === key && j.status === "RUNNING" && (!isAbandoned(j) || j.runner?.startsWith(BATCH_RUNNER_PREFIX)),
    );
  }

  /** Stops a job: queued -> CANCELLED now; running -> flagged (its runner stops); a dead runner's job -> CANCELLED now. */
  async cancel(id: string): Promise<JobRecord> {
    const before = await this.require(id);
    if (before.status === "SUCCEEDED" || before.status === "FAILED" || before.status === "CANCELLED") return before;
    if (isAbandoned(before)) {
      await this.repo.release(id, (await this.repo.items(id, "RUNNING", 1_000_000)).map((i) => i.featureIndex));
      return (await this.repo.finish(id, "CANCELLED", "cancelled (its runner had stopped)"))!;
    }
    return (await this.repo.requestCancel(id)) ?? before;
  }

  // What a runner does to a job it runs (autointerp's pipeline and batch runner): claim items,
  // record each outcome and the spend, beat, and finish. The repository keeps each step atomic.

  start(...a: Parameters<JobRepository["start"]>) {
    return this.repo.start(...a);
  }

  claim(...a: Parameters<JobRepository["claim"]>) {
    return this.repo.claim(...a);
  }

  release(...a: Parameters<JobRepository["release"]>) {
    return this.repo.release(...a);
  }

  finishItem(...a: Parameters<JobRepository["finishItem"]>) {
    return this.repo.finishItem(...a);
  }

  setParams(...a: Parameters<JobRepository["setParams"]>) {
    return this.repo.setParams(...a);
  }

  setRunner(...a: Parameters<JobRepository["setRunner"]>) {
    return this.repo.setRunner(...a);
  }

  heartbeat(...a: Parameters<JobRepository["heartbeat"]>) {
    return this.repo.heartbeat(...a);
  }

  finish(...a: Parameters<JobRepository["finish"]>) {
    return this.repo.finish(...a);
  }

  pendingCount(...a: Parameters<JobRepository["pendingCount"]>) {
    return this.repo.pendingCount(...a);
  }
}
