// One dedicated connection for bulk writes: a pooled pg client (COPY ... FROM STDIN
// through pg-copy-streams, kept open across batches so encoding in Node overlaps with
// the server's work) or the PGlite instance (COPY ... FROM '/dev/blob', one statement
// per batch). Both read PostgreSQL's binary COPY format.
import type { PGlite, Transaction } from "@electric-sql/pglite";
import type pg from "pg";
import { from as copyFrom, type CopyStreamQuery } from "pg-copy-streams";
import type { BulkStatements, CopyStatement } from "../../db/bulk.ts";
import type { Database } from "../../db/database.ts";
import { copyHeader, copyTrailer } from "./copy-binary.ts";

/** The statements run on it belong to repositories (bulk.repository.ts and those it delegates to). */
export interface BulkConnection extends BulkStatements {
  /** Finishes the open COPY, if any (its rows are then visible to later statements). */
  endCopy(): Promise<void>;
  /** Abandons the open COPY, if any: the server rolls it back (CopyFail) and the connection stays usable. */
  abortCopy(): Promise<void>;
  /** Runs fn in one transaction (PGlite: holding its mutex, so nothing else interleaves). */
  transaction<T>(fn: (conn: BulkConnection) => Promise<T>): Promise<T>;
  /** Makes release() discard the connection instead of returning it to the pool. */
  poison(): void;
  release(broken?: boolean): Promise<void>;
}

export async function openBulkConnection(db: Database): Promise<BulkConnection> {
  if (db.driver.kind === "postgres") return new PgBulk(await db.driver.pool.connect());
  return new PgliteBulk(db.driver.pg);
}

class PgBulk implements BulkConnection {
  readonly backend = "postgres" as const;
  private stream: CopyStreamQuery | null = null;
  private target: CopyStatement | null = null;
  private failure: Error | null = null;
  private done: Promise<void> | null = null;
  private poisoned = false;

  constructor(private readonly client: pg.PoolClient) {}

  poison(): void {
    this.poisoned = true;
  }

  async query(sql: string, params: unknown[] = []): Promise<unknown[]> {
    await this.endCopy();
    return (await this.client.query(sql, params)).rows;
  }

  async copy(target: CopyStatement, tuples: Buffer): Promise<void> {
    if (this.target !== target) {
      await this.endCopy();
      // A deep buffer lets Node encode the next chunks while the server is still parsing
      // earlier ones (the default 16 KiB would stall encoding on every chunk).
      const stream = this.client.query(copyFrom(target.postgres, { highWaterMark: 32 << 20 }));
      this.failure = null;
      this.done = new Promise<void>((resolve, reject) => {
        stream.on("finish", () => resolve());
        stream.on("error", (e: Error) => {
          this.failure = e;
          reject(e);
        });
      });
      this.done.catch(() => {}); // surfaced by write() or endCopy()
      this.stream = stream;
      this.target = target;
      await this.write(copyHeader());
    }
    await this.write(tuples);
  }

  private write(chunk: Buffer): Promise<void> {
    const s = this.stream!;
    if (this.failure) return Promise.reject(this.failure);
    const ok = s.write(chunk);
    if (ok) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const onDrain = () => {
        s.off("error", onError);
        resolve();
      };
      const onError = (e: Error) => {
        s.off("drain", onDrain);
        reject(e);
      };
      s.once("drain", onDrain);
      s.once("error", onError);
    });
  }

  async endCopy(): Promise<void> {
    if (!this.stream) return;
    const s = this.stream;
    const done = this.done!;
    this.stream = null;
    this.target = null;
    this.done = null;
    if (!this.failure) s.end(copyTrailer());
    await done;
  }

  async abortCopy(): Promise<void> {
    if (!this.stream) return;
    const s = this.stream;
    const done = this.done!;
    this.stream = null;
    this.target = null;
    this.done = null;
    if (!this.failure) s.destroy(new Error("ingest aborted"));
    await done.catch(() => {});
  }

  async transaction<T>(fn: (conn: BulkConnection) => Promise<T>): Promise<T> {
    await this.query("BEGIN");
    try {
      const r = await fn(this);
      await this.endCopy();
      await this.query("COMMIT");
      return r;
    } catch (e) {
      await this.abortCopy();
      await this.client.query("ROLLBACK").catch(() => {});
      throw e;
    }
  }

  async release(broken = false): Promise<void> {
    if (this.poisoned) broken = true;
    if (this.stream) {
      // An unfinished COPY leaves the protocol mid-stream: drop the connection.
      this.stream.destroy();
      broken = true;
    }
    this.client.release(broken ? new Error("bulk connection discarded") : undefined);
  }
}

class PgliteBulk implements BulkConnection {
  readonly backend = "pglite" as const;
  constructor(
    private readonly pg: PGlite | Transaction,
    private readonly root: PGlite | null = pg as PGlite,
  ) {}

  async query(sql: string, params: unknown[] = []): Promise<unknown[]> {
    return (await this.pg.query(sql, params)).rows;
  }

  async copy(target: CopyStatement, tuples: Buffer): Promise<void> {
    const blob = new Blob([copyHeader(), tuples, copyTrailer()]);
    await this.pg.query(target.pglite, [], { blob });
  }

  async endCopy(): Promise<void> {}

  async abortCopy(): Promise<void> {}

  poison(): void {}

  async transaction<T>(fn: (conn: BulkConnection) => Promise<T>): Promise<T> {
    if (!this.root) return fn(this);
    return this.root.transaction((tx) => fn(new PgliteBulk(tx, null)));
  }

  async release(): Promise<void> {}
}
