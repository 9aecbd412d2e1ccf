// The bulk connection pointed at an SAE's detached tables (schema monoscope_load_schema(sae),
// made by monoscope_prepare_sae_tables): the load's statements name tables unqualified
// ("feature", "activation", ...), and this schema comes first on their search_path, so they
// fill the detached tables while every other connection keeps reading the partitioned ones.
// PostgreSQL: a session setting on the dedicated connection, restored at the end (a connection
// that cannot restore it is discarded). PGlite shares one session with everyone in the process,
// so each statement runs in its own short transaction with the path set LOCAL to it.
import type { BulkConnection } from "../../db/bulk-connection.ts";
import type { CopyStatement } from "../../db/bulk.ts";

export class DetachedLoadConnection implements BulkConnection {
  private constructor(
    private readonly inner: BulkConnection,
    private readonly path: string,
    private readonly previous: string | null,
  ) {}

  /** Points conn at the SAE's detached tables until end(). */
  static async open(conn: BulkConnection, saeId: string): Promise<DetachedLoadConnection> {
    const rows = await conn.query(
      "/* ingest_detached_path */ SELECT current_setting('search_path') AS previous, quote_ident(monoscope_load_schema($1)) || ', ' || current_setting('search_path') AS path",
      [saeId],
    );
    const r = rows[0] as { previous?: unknown; path?: unknown } | undefined;
    if (typeof r?.path !== "string" || typeof r.previous !== "string") throw new Error("invariant failed: no search_path for the detached load");
    if (conn.backend === "postgres") {
      await conn.query("/* ingest_detached_on */ SELECT set_config('search_path', $1, false)", [r.path]);
      return new DetachedLoadConnection(conn, r.path, r.previous);
    }
    return new DetachedLoadConnection(conn, r.path, null);
  }

  get backend(): "postgres" | "pglite" {
    return this.inner.backend;
  }

  private local<T>(fn: (c: BulkConnection) => Promise<T>): Promise<T> {
    if (this.previous !== null) return fn(this.inner);
    return this.inner.transaction(async (c) => {
      await c.query("/* ingest_detached_local */ SELECT set_config('search_path', $1, true)", [this.path]);
      return fn(c);
    });
  }

  query(sql: string, params?: unknown[]): Promise<unknown[]> {
    return this.local((c) => c.query(sql, params));
  }

  copy(statement: CopyStatement, tuples: Buffer): Promise<void> {
    return this.local((c) => c.copy(statement, tuples));
  }

  endCopy(): Promise<void> {
    return this.inner.endCopy();
  }

  abortCopy(): Promise<void> {
    return this.inner.abortCopy();
  }

  transaction<T>(fn: (conn: BulkConnection) => Promise<T>): Promise<T> {
    return this.local((c) => c.transaction(fn));
  }

  poison(): void {
    this.inner.poison();
  }

  /** Points the connection back at the partitioned tables (PostgreSQL; PGlite's path was never changed). */
  async end(): Promise<void> {
    if (this.previous === null) return;
    await this.inner.abortCopy();
    await this.inner.query("/* ingest_detached_off */ SELECT set_config('search_path', $1, false)", [this.previous]).catch(() => this.inner.poison());
  }

  /** The connection is the session's; releasing it is the owner's. */
  async release(): Promise<void> {}
}
