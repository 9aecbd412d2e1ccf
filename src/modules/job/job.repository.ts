// SQL for jobs and their items. Item transitions are guarded by the current status
// (PENDING -> RUNNING -> DONE | FAILED), so an item is counted once even if two
// runners meet, and counters move in the same statement as the item.
import { z } from "zod";
import type { Database } from "../../db/database.ts";
import { CountRow, firstRow, IdxRow, onlyRow, parseRows } from "../../db/rows.ts";
import { Prisma } from "../../generated/prisma/client.ts";
import { JobStatus } from "./job.constants.ts";

export { JobStatus };
export type ItemStatus = "PENDING" | "RUNNING" | "DONE" | "FAILED";

export const JobRecord = z.object({
  id: z.string(),
  kind: z.string(),
  status: z.enum(JobStatus),
  saeId: z.string().nullable(),
  params: z.record(z.string(), z.unknown()),
  total: z.number().int(),
  done: z.number().int(),
  failed: z.number().int(),
  inputTokens: z.number().int(),
  outputTokens: z.number().int(),
  costUsd: z.number(),
  maxCostUsd: z.number().nullable(),
  error: z.string().nullable(),
  cancelRequested: z.boolean(),
  runner: z.string().nullable(),
  createdAt: z.date(),
  startedAt: z.date().nullable(),
  finishedAt: z.date().nullable(),
  heartbeatAt: z.date().nullable(),
});
export type JobRecord = z.infer<typeof JobRecord>;

export const JobItemRecord = z.object({
  jobId: z.string(),
  featureIndex: z.number().int(),
  status: z.string(),
  attempts: z.number().int(),
  error: z.string().nullable(),
  rawResponse: z.string().nullable(),
  updatedAt: z.date(),
});
export type JobItemRecord = z.infer<typeof JobItemRecord>;

const JOB_COLUMNS = Prisma.sql`
  j.id, j.kind, j.status, j.sae_id AS "saeId", j.params, j.total, j.done, j.failed, j.input_tokens AS "inputTokens",
  j.output_tokens AS "outputTokens", j.cost_usd AS "costUsd", j.max_cost_usd AS "maxCostUsd", j.error,
  j.cancel_requested AS "cancelRequested", j.runner, j.created_at AS "createdAt", j.started_at AS "startedAt",
  j.finished_at AS "finishedAt", j.heartbeat_at AS "heartbeatAt"`;
// The same columns for RETURNING (no table alias there).
const JOB_COLUMNS_BARE = Prisma.sql`
  id, kind, status, sae_id AS "saeId", params, total, done, failed, input_tokens AS "inputTokens",
  output_tokens AS "outputTokens", cost_usd AS "costUsd", max_cost_usd AS "maxCostUsd", error,
  cancel_requested AS "cancelRequested", runner, created_at AS "createdAt", started_at AS "startedAt",
  finished_at AS "finishedAt", heartbeat_at AS "heartbeatAt"`;

const CancelRow = z.object({ c: z.boolean() });

export interface Spend {
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

export class JobRepository {
  constructor(private readonly db: Database) {}

  private async one(rows: unknown): Promise<JobRecord | null> {
    return firstRow(JobRecord, rows);
  }

  async create(job: { id: string; kind: string; saeId: string; params: Record<string, unknown>; maxCostUsd: number | null }, items: readonly number[]): Promise<JobRecord> {
    const p = this.db.prisma;
    // One batch transaction: a job never exists without its items.
    await p.$transaction([
      p.$executeRaw`
        /* job.create */
        INSERT INTO job (id, kind, status, sae_id, params, total, max_cost_usd)
        VALUES (${job.id}, ${job.kind}, ${items.length ? "QUEUED" : "SUCCEEDED"}, ${job.saeId}, ${JSON.stringify(job.params)}::jsonb,
                ${items.length}, ${job.maxCostUsd})`,
      p.$executeRaw`
        /* job.createItems */
        INSERT INTO job_item (job_id, feature_idx) SELECT ${job.id}, i FROM unnest(${[...items]}::int[]) AS i`,
    ]);
    if (!items.length) await p.$executeRaw`/* job.finishEmpty */ UPDATE job SET finished_at = CURRENT_TIMESTAMP WHERE id = ${job.id}`;
    return (await this.get(job.id))!;
  }

  async get(id: string): Promise<JobRecord | null> {
    return this.one(await this.db.sql`/* job.get */ SELECT ${JOB_COLUMNS} FROM job j WHERE j.id = ${id}`);
  }

  async list(filter: { status?: string | null; saeId?: string | null; kind?: string | null }, first: number): Promise<JobRecord[]> {
    const rows = await this.db.sql`
      /* job.list */
      SELECT ${JOB_COLUMNS} FROM job j
      WHERE (${filter.status ?? null}::text IS NULL OR j.status = ${filter.status ?? null})
        AND (${filter.saeId ?? null}::text IS NULL OR j.sae_id = ${filter.saeId ?? null})
        AND (${filter.kind ?? null}::text IS NULL OR j.kind = ${filter.kind ?? null})
      ORDER BY j.created_at DESC, j.id DESC
      LIMIT ${first}`;
    return parseRows(JobRecord, rows);
  }

  /** Unfinished jobs of this kind on this SAE, newest first (candidates for resuming). */
  async unfinished(kind: string, saeId: string): Promise<JobRecord[]> {
    const rows = await this.db.sql`
      /* job.unfinished */
      SELECT ${JOB_COLUMNS} FROM job j
      WHERE j.kind = ${kind} AND j.sae_id = ${saeId} AND j.status IN ('QUEUED', 'RUNNING')
      ORDER BY j.created_at DESC`;
    return parseRows(JobRecord, rows);
  }

  /** Every queued or running job of these kinds, oldest first. */
  async unfinishedOfKinds(kinds: readonly string[]): Promise<JobRecord[]> {
    const rows = await this.db.sql`
      /* job.unfinishedOfKinds */
      SELECT ${JOB_COLUMNS} FROM job j
      WHERE j.kind = ANY(${[...kinds]}::text[]) AND j.status IN ('QUEUED', 'RUNNING')
      ORDER BY j.created_at, j.id`;
    return parseRows(JobRecord, rows);
  }

  async items(jobId: string, status: string | null, first: number): Promise<JobItemRecord[]> {
    const rows = await this.db.sql`
      /* job.items */
      SELECT job_id AS "jobId", feature_idx AS "featureIndex", status, attempts, error, raw_response AS "rawResponse", updated_at AS "updatedAt"
      FROM job_item WHERE job_id = ${jobId} AND (${status}::text IS NULL OR status = ${status})
      ORDER BY feature_idx LIMIT ${first}`;
    return parseRows(JobItemRecord, rows);
  }

  /**
   * Takes the job for this runner: RUNNING, heartbeat now, and items a dead runner left
   * RUNNING back to PENDING (their results, if any were stored, are found and not paid again).
   * A cancelled or failed job restarts only when asked to (`restart`); null if not started.
   */
  async start(id: string, runner: string, maxCostUsd: number | null, restart: boolean): Promise<JobRecord | null> {
    const p = this.db.prisma;
    const [, rows] = await p.$transaction([
      p.$executeRaw`/* job.resetItems */ UPDATE job_item SET status = 'PENDING', updated_at = CURRENT_TIMESTAMP WHERE job_id = ${id} AND status = 'RUNNING'`,
      p.$queryRaw`
        /* job.start */
        UPDATE job SET status = 'RUNNING', runner = ${runner}, started_at = coalesce(started_at, CURRENT_TIMESTAMP),
               heartbeat_at = CURRENT_TIMESTAMP, finished_at = NULL, error = NULL, cancel_requested = false,
               max_cost_usd = coalesce(${maxCostUsd}::float8, max_cost_usd)
        WHERE id = ${id} AND (status IN ('QUEUED', 'RUNNING') OR (${restart} AND status IN ('CANCELLED', 'FAILED')))
        RETURNING ${JOB_COLUMNS_BARE}`,
    ]);
    return this.one(rows);
  }

  /** Claims up to n pending items (SKIP LOCKED: two runners never take the same one); none once a cancel is requested. */
  async claim(id: string, n: number): Promise<number[]> {
    const rows = await this.db.prisma.$queryRaw`
      /* job.claim */
      WITH picked AS MATERIALIZED (
        SELECT feature_idx FROM job_item WHERE job_id = ${id} AND status = 'PENDING'
          AND NOT EXISTS (SELECT 1 FROM job WHERE id = ${id} AND cancel_requested)
        ORDER BY feature_idx LIMIT ${n}::int FOR UPDATE SKIP LOCKED)
      UPDATE job_item i SET status = 'RUNNING', attempts = i.attempts + 1, updated_at = CURRENT_TIMESTAMP
      FROM picked
      WHERE i.job_id = ${id} AND i.feature_idx = picked.feature_idx AND i.status = 'PENDING'
      RETURNING i.feature_idx AS idx`;
    return parseRows(IdxRow, rows).map((r) => r.idx).sort((a, b) => a - b);
  }

  /** Puts claimed items back untouched (budget reached, cancelled, or a fatal upstream error). */
  async release(id: string, indices: readonly number[]): Promise<void> {
    if (!indices.length) return;
    await this.db.prisma.$executeRaw`
      /* job.release */
      UPDATE job_item SET status = 'PENDING', attempts = greatest(attempts - 1, 0), updated_at = CURRENT_TIMESTAMP
      WHERE job_id = ${id} AND feature_idx = ANY(${[...indices]}::int[]) AND status = 'RUNNING'`;
  }

  /** Records one item's outcome and adds its spend to the job, in one statement. */
  async finishItem(
    id: string,
    featureIndex: number,
    outcome: { status: "DONE" | "FAILED"; error?: string | null; raw?: string | null },
    spend: Spend,
  ): Promise<void> {
    const done = outcome.status === "DONE" ? 1 : 0;
    await this.db.prisma.$executeRaw`
      /* job.finishItem */
      WITH item AS (
        UPDATE job_item SET status = ${outcome.status}, error = ${outcome.error ?? null}, raw_response = ${outcome.raw ?? null},
               updated_at = CURRENT_TIMESTAMP
        WHERE job_id = ${id} AND feature_idx = ${featureIndex} AND status = 'RUNNING'
        RETURNING 1)
      UPDATE job SET done = done + ${done} * (SELECT count(*) FROM item)::int,
             failed = failed + ${1 - done} * (SELECT count(*) FROM item)::int,
             input_tokens = input_tokens + ${spend.inputTokens}, output_tokens = output_tokens + ${spend.outputTokens},
             cost_usd = cost_usd + ${spend.costUsd}, heartbeat_at = CURRENT_TIMESTAMP
      WHERE id = ${id}`;
  }

  /** Merges keys into the job's params (null removes a key). */
  async setParams(id: string, patch: Record<string, unknown>): Promise<void> {
    const remove = Object.keys(patch).filter((k) => patch[k] === null);
    const add = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== null));
    await this.db.prisma.$executeRaw`
      /* job.setParams */
      UPDATE job SET params = (params - ${remove}::text[]) || ${JSON.stringify(add)}::jsonb WHERE id = ${id}`;
  }

  /** Marks who holds a running job (a process, or a Batch API batch). */
  async setRunner(id: string, runner: string | null): Promise<void> {
    await this.db.prisma.$executeRaw`/* job.setRunner */ UPDATE job SET runner = ${runner}, heartbeat_at = CURRENT_TIMESTAMP WHERE id = ${id}`;
  }

  /** Heartbeat; returns whether a cancel was requested. */
  async heartbeat(id: string): Promise<boolean> {
    const rows = await this.db.prisma.$queryRaw`
      /* job.heartbeat */
      UPDATE job SET heartbeat_at = CURRENT_TIMESTAMP WHERE id = ${id} RETURNING cancel_requested AS c`;
    return firstRow(CancelRow, rows)?.c ?? true;
  }

  async finish(id: string, status: JobStatus, error: string | null): Promise<JobRecord | null> {
    return this.one(
      await this.db.prisma.$queryRaw`
        /* job.finish */
        UPDATE job SET status = ${status}, error = ${error}, runner = NULL, finished_at = CURRENT_TIMESTAMP, heartbeat_at = CURRENT_TIMESTAMP
        WHERE id = ${id} RETURNING ${JOB_COLUMNS_BARE}`,
    );
  }

  /** Queued jobs are cancelled at once; a running one is flagged and its runner stops. */
  async requestCancel(id: string): Promise<JobRecord | null> {
    return this.one(
      await this.db.prisma.$queryRaw`
        /* job.requestCancel */
        UPDATE job SET cancel_requested = (status = 'RUNNING'),
               status = CASE WHEN status = 'QUEUED' THEN 'CANCELLED' ELSE status END,
               finished_at = CASE WHEN status = 'QUEUED' THEN CURRENT_TIMESTAMP ELSE finished_at END
        WHERE id = ${id} RETURNING ${JOB_COLUMNS_BARE}`,
    );
  }

  async pendingCount(id: string): Promise<number> {
    const rows = await this.db.sql`
      /* job.pendingCount */
      SELECT count(*)::int AS n FROM job_item WHERE job_id = ${id} AND status IN ('PENDING', 'RUNNING')`;
    return onlyRow(CountRow, rows).n;
  }
}
