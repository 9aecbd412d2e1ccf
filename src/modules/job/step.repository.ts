// SQL for post-ingest steps (table sae_step). Every transition of a claimed step is guarded
// by its generation and runner, so a runner whose step was recorded again (the data changed
// under it) or taken over (it was presumed dead) changes nothing.
import { z } from "zod";
import type { Database } from "../../db/database.ts";

export const StepState = ["PENDING", "RUNNING", "DONE", "FAILED"] as const;
export type StepState = (typeof StepState)[number];

export const StepRow = z.object({
  saeId: z.string(),
  step: z.string(),
  state: z.enum(StepState),
  generation: z.number().int(),
  fresh: z.boolean(),
  done: z.number().int(),
  total: z.number().int().nullable(),
  attempts: z.number().int(),
  error: z.string().nullable(),
  runner: z.string().nullable(),
  updatedAt: z.date(),
  heartbeatAt: z.date().nullable(),
});
export type StepRow = z.infer<typeof StepRow>;

/** A connection or transaction to record on (ingest's bulk connection inside its own transaction). */
export interface SqlExecutor {
  query(sql: string, params?: unknown[]): Promise<unknown[]>;
}

/** Which claimed step a transition applies to. */
export interface StepClaim {
  saeId: string;
  step: string;
  generation: number;
  runner: string;
}

// Runs on the caller's connection, so it commits (or rolls back) with the caller's transaction.
const RECORD_SQL = `/* step.record */
  INSERT INTO sae_step (sae_id, step) SELECT $1, s FROM unnest($2::text[]) AS s
  ON CONFLICT (sae_id, step) DO UPDATE SET state = 'PENDING', generation = sae_step.generation + 1, fresh = true,
    done = 0, total = NULL, error = NULL, runner = NULL, updated_at = CURRENT_TIMESTAMP, finished_at = NULL`;

const IdRow = z.object({ id: z.string() });

export class StepRepository {
  constructor(private readonly db: Database) {}

  /** Marks these steps of an SAE pending (again: a newer generation, its partial output stale). */
  async record(exec: SqlExecutor, saeId: string, steps: readonly string[]): Promise<void> {
    await exec.query(RECORD_SQL, [saeId, [...steps]]);
  }

  /** Steps of these ready SAEs that are not DONE. */
  async unfinished(saeIds: readonly string[]): Promise<StepRow[]> {
    const rows = await this.db.prisma.$queryRaw<unknown[]>`
      /* step.unfinished */
      SELECT st.sae_id AS "saeId", st.step, st.state, st.generation, st.fresh, st.done, st.total, st.attempts, st.error,
             st.runner, st.updated_at AS "updatedAt", st.heartbeat_at AS "heartbeatAt"
      FROM sae_step st JOIN sae s ON s.id = st.sae_id AND s.status = 'ready'
      WHERE st.sae_id = ANY(${[...saeIds]}::text[]) AND st.state <> 'DONE'
      ORDER BY st.sae_id, st.created_at, st.step`;
    return rows.map((r) => StepRow.parse(r));
  }

  /** Ready SAEs with a step not DONE, oldest first. */
  async saesWithUnfinished(): Promise<string[]> {
    const rows = await this.db.rows(IdRow)`
      /* step.saesWithUnfinished */
      SELECT st.sae_id AS id FROM sae_step st JOIN sae s ON s.id = st.sae_id AND s.status = 'ready'
      WHERE st.state <> 'DONE' GROUP BY st.sae_id ORDER BY min(st.created_at), st.sae_id`;
    return rows.map((r) => r.id);
  }

  /** Takes a step for runner if it is still as observed (compare and set); null when someone else moved first. */
  async claim(seen: StepRow, runner: string): Promise<StepRow | null> {
    const rows = await this.db.prisma.$queryRaw<unknown[]>`
      /* step.claim */
      UPDATE sae_step SET state = 'RUNNING', runner = ${runner}, attempts = attempts + 1, error = NULL,
             heartbeat_at = CURRENT_TIMESTAMP, updated_at = CURRENT_TIMESTAMP
      WHERE sae_id = ${seen.saeId} AND step = ${seen.step} AND generation = ${seen.generation} AND state = ${seen.state}
        AND runner IS NOT DISTINCT FROM ${seen.runner}::text
      RETURNING sae_id AS "saeId", step, state, generation, fresh, done, total, attempts, error, runner,
                updated_at AS "updatedAt", heartbeat_at AS "heartbeatAt"`;
    return rows[0] ? StepRow.parse(rows[0]) : null;
  }

  /** Stores progress (and that the stale output is gone); false when the claim no longer holds. */
  async progress(c: StepClaim, done: number, total: number): Promise<boolean> {
    const n = await this.db.prisma.$executeRaw`
      /* step.progress */
      UPDATE sae_step SET done = ${done}, total = ${total}, fresh = false, heartbeat_at = CURRENT_TIMESTAMP, updated_at = CURRENT_TIMESTAMP
      WHERE sae_id = ${c.saeId} AND step = ${c.step} AND generation = ${c.generation} AND runner = ${c.runner} AND state = 'RUNNING'`;
    return n > 0;
  }

  async heartbeat(c: StepClaim): Promise<void> {
    await this.db.prisma.$executeRaw`
      /* step.heartbeat */
      UPDATE sae_step SET heartbeat_at = CURRENT_TIMESTAMP
      WHERE sae_id = ${c.saeId} AND step = ${c.step} AND generation = ${c.generation} AND runner = ${c.runner} AND state = 'RUNNING'`;
  }

  /** DONE, FAILED (with its error) or back to PENDING (paused); the runner lets go. */
  async finish(c: StepClaim, state: Exclude<StepState, "RUNNING">, error: string | null): Promise<void> {
    await this.db.prisma.$executeRaw`
      /* step.finish */
      UPDATE sae_step SET state = ${state}, error = ${error}, runner = NULL, updated_at = CURRENT_TIMESTAMP,
             finished_at = CASE WHEN ${state}::text = 'DONE' THEN CURRENT_TIMESTAMP ELSE NULL END
      WHERE sae_id = ${c.saeId} AND step = ${c.step} AND generation = ${c.generation} AND runner = ${c.runner} AND state = 'RUNNING'`;
  }
}
