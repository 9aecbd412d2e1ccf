// Every statement of the bulk path, run on one dedicated connection (bulk-connection.ts):
// ingest's own (the per-SAE advisory lock, trigger handling, the SAE's import record) and,
// delegated to the repositories that own those tables, the loads of feature, dashboard,
// activation and explanation rows. Also the transaction helpers the write path runs in.
// Fixed SQL text with $n parameters only; nothing here is assembled from input.
import { z } from "zod";
import type { Database } from "../../db/database.ts";
import { CountRow, firstRow } from "../../db/rows.ts";
import { ExplanationBulkLoad } from "../../modules/explanation/explanation.repository.ts";
import { ImageBulkLoad } from "../../modules/image/image-bulk.repository.ts";
import { ACTIVATION_COPY, ActivationBulkLoad, FEATURE_COPY, FEATURE_STAGE_COPY, FeatureBulkLoad } from "../../modules/feature/feature-bulk.repository.ts";
import { type BulkConnection, openBulkConnection } from "../../db/bulk-connection.ts";
import { DetachedLoadConnection } from "./detached-load.repository.ts";

export type CopyTarget = "feature" | "feature_stage" | "activation";

/** The COPY statements of the bulk path by backend (for benchmarks that replay them). */
export const COPY_SQL: Record<"postgres" | "pglite", Record<CopyTarget, string>> = {
  postgres: { feature: FEATURE_COPY.postgres, feature_stage: FEATURE_STAGE_COPY.postgres, activation: ACTIVATION_COPY.postgres },
  pglite: { feature: FEATURE_COPY.pglite, feature_stage: FEATURE_STAGE_COPY.pglite, activation: ACTIVATION_COPY.pglite },
};

const LockRow = z.object({ ok: z.boolean() });

export class BulkRepository {
  readonly features: FeatureBulkLoad;
  readonly activations: ActivationBulkLoad;
  readonly explanations: ExplanationBulkLoad;
  readonly images: ImageBulkLoad;

  constructor(private readonly conn: BulkConnection) {
    this.features = new FeatureBulkLoad(conn);
    this.activations = new ActivationBulkLoad(conn);
    this.explanations = new ExplanationBulkLoad(conn);
    this.images = new ImageBulkLoad(conn);
  }

  /** A dedicated connection (a pooled client on PostgreSQL, the PGlite instance embedded). */
  static async open(db: Database): Promise<BulkRepository> {
    return new BulkRepository(await openBulkConnection(db));
  }

  get backend(): "postgres" | "pglite" {
    return this.conn.backend;
  }

  /**
   * The per-SAE advisory lock, held for the whole session: a second ingest or removal of the
   * same SAE id waits for nothing and learns false.
   */
  async tryLock(saeId: string): Promise<boolean> {
    const rows = await this.conn.query("/* ingest_try_lock */ SELECT pg_try_advisory_lock(hashtext('monoscope-ingest'), hashtext($1)) AS ok", [saeId]);
    return firstRow(LockRow, rows)?.ok === true;
  }

  /** Releases the lock; never throws (the connection may already be broken). */
  async unlock(saeId: string): Promise<void> {
    await this.conn.query("/* ingest_unlock */ SELECT pg_advisory_unlock(hashtext('monoscope-ingest'), hashtext($1))", [saeId]).catch(() => {});
  }

  /**
   * The same connection writing into an SAE's detached tables (monoscope_prepare_sae_tables)
   * instead of the partitioned ones, until end(); see detached-load.repository.ts.
   */
  async detached(saeId: string): Promise<{ bulk: BulkRepository; end(): Promise<void> }> {
    const conn = await DetachedLoadConnection.open(this.conn, saeId);
    return { bulk: new BulkRepository(conn), end: () => conn.end() };
  }

  /** Records the import list in the SAE's source; the last step of a merge, inside its transaction. */
  async setSaeSource(saeId: string, source: Record<string, unknown>): Promise<void> {
    await this.conn.query("/* ingest_touch_sae */ UPDATE sae SET source = $2::jsonb, updated_at = CURRENT_TIMESTAMP WHERE id = $1", [
      saeId,
      JSON.stringify(source),
    ]);
  }

  /** This connection, for another module's repository to run its statements inside this transaction. */
  get executor(): Pick<BulkConnection, "query"> {
    return this.conn;
  }

  /** Runs fn in one transaction (PGlite: holding its mutex, so nothing else interleaves). */
  transaction<T>(fn: (tx: BulkRepository) => Promise<T>): Promise<T> {
    return this.conn.transaction((c) => fn(c === this.conn ? this : new BulkRepository(c)));
  }

  /**
   * Runs a bulk load without the per-row foreign-key triggers, as pg_restore --disable-triggers
   * does: the session already guarantees every row's parent exists (feature rows are written
   * before their activations, bare rows for features an artifact only mentions, all under the
   * per-SAE advisory lock). Only when the tables carry no user triggers and the role may do it
   * (superuser, e.g. the embedded database); otherwise the checks simply run.
   */
  async withoutRedundantChecks<T>(fn: () => Promise<T>): Promise<T> {
    let skipped = false;
    try {
      // Foreign-key triggers are internal and not counted.
      const rows = await this.conn.query(`/* ingest_user_triggers */ SELECT count(*)::int AS n FROM pg_trigger
        WHERE NOT tgisinternal AND tgrelid IN ('feature'::regclass, 'activation'::regclass, 'feature_dashboard'::regclass, 'explanation'::regclass)`);
      if (firstRow(CountRow, rows)?.n === 0) {
        await this.conn.query("/* ingest_skip_triggers */ SET session_replication_role = replica");
        skipped = true;
      }
    } catch {
      /* not permitted: keep the checks */
    }
    try {
      return await fn();
    } finally {
      if (skipped) {
        await this.conn.abortCopy();
        // A connection that kept the setting must never serve anyone else.
        await this.conn.query("/* ingest_restore_triggers */ SET session_replication_role = DEFAULT").catch(() => this.conn.poison());
      }
    }
  }

  /** Finishes the open COPY, if any (its rows are then visible to later statements). */
  endCopy(): Promise<void> {
    return this.conn.endCopy();
  }

  /** Abandons the open COPY, if any: the server rolls it back and the connection stays usable. */
  abortCopy(): Promise<void> {
    return this.conn.abortCopy();
  }

  release(): Promise<void> {
    return this.conn.release();
  }
}
