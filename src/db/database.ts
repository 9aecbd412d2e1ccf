// Opens the database: embedded PGlite (with pgvector) under the data dir, or a
// PostgreSQL server from DATABASE_URL. Statements reach it three ways:
// - sql / rows / run / sqlTransaction: tagged statements through the raw driver (named
//   prepared statements on PostgreSQL). Every read behind the API, and the write path's
//   relational rows (ingest.repository.ts).
// - prisma.$queryRaw / $executeRaw / $transaction: the remaining cold statements (jobs,
//   auto-interp reads, lineage and map writes); rows checked with parseRows (rows.ts).
// - driver: the bulk connection's COPY (ingest/bulk) and COPY-out of whole matrices.
// Prisma's ORM and CLI remain for the schema and its migrations.
import { accessSync, constants, mkdirSync } from "node:fs";
import { PGlite, type Transaction } from "@electric-sql/pglite";
import { pg_trgm } from "@electric-sql/pglite/contrib/pg_trgm";
import { vector } from "@electric-sql/pglite-pgvector";
// node-postgres and its Prisma adapter load only for a server (openPostgres): loading pg pulls in
// Node's fetch implementation, a cost every embedded-database command would pay for nothing.
import type pg from "pg";
import { PrismaPGlite } from "pglite-prisma-adapter";
import type { Config } from "../config.ts";
import { AppError, ErrorCode, redactSecrets } from "../errors.ts";
import { Prisma, PrismaClient } from "../generated/prisma/client.ts";
import { type DirLock, lockDataDir } from "./lock.ts";
import { parseRows, type RowParser } from "./rows.ts";
import { countStatement, type DbStats } from "./stats.ts";

export type Driver = { kind: "postgres"; pool: pg.Pool } | { kind: "pglite"; pg: PGlite };

export interface Database {
  readonly backend: "postgres" | "pglite";
  readonly prisma: PrismaClient;
  /** The raw driver, for bulk loads (COPY, large multi-row statements); reads go through sql. */
  readonly driver: Driver;
  /**
   * Parameterised SQL through the raw driver, for hot read paths: Prisma's $queryRaw costs about
   * 0.4 ms per statement on top of the driver (measured by scripts/bench/graphql.ts). On
   * PostgreSQL each distinct text becomes a named prepared statement. Values are the driver's
   * (int8 and numeric arrive as strings): select only types both drivers return alike. Values
   * may be Prisma.sql fragments, as with $queryRaw. Rows are unchecked: read them through rows().
   */
  sql(strings: TemplateStringsArray, ...values: unknown[]): Promise<unknown[]>;
  /** The same statement path, every row checked by parser: `db.rows(FeatureRow)\`SELECT …\``. */
  rows<T>(parser: RowParser<T>): (strings: TemplateStringsArray, ...values: unknown[]) => Promise<T[]>;
  /** A write on the same path; returns the number of rows it changed. */
  run(strings: TemplateStringsArray, ...values: unknown[]): Promise<number>;
  /**
   * Statements on the same path in one transaction on one connection, for reads that need
   * transaction-local settings (SET LOCAL / set_config(..., true)). Rolled back if fn throws.
   */
  sqlTransaction<T>(fn: (tx: SqlStatements) => Promise<T>): Promise<T>;
  /**
   * Statements sent to the server since open (for batching tests and metrics), and how many of
   * them may have written (anything but a plain SELECT/SHOW; transactions and COPY count), so a
   * cache of what is stored can tell that nothing changed in this process since it looked.
   */
  readonly stats: DbStats;
  /** Where the data lives, safe to log (no password). */
  readonly location: string;
  close(): Promise<void>;
}

export type { DbStats };

/** The statement path of Database, alone (inside sqlTransaction). */
export type SqlStatements = Pick<Database, "sql" | "rows" | "run">;

export interface OpenOptions {
  /** An in-memory PGlite, for tests (no data dir, no lock). */
  memory?: boolean;
}

export async function openDatabase(config: Config, options: OpenOptions = {}): Promise<Database> {
  return config.database.kind === "postgres"
    ? openPostgres(config.database.url, config.database.poolSize, config.database.preparedStatements)
    : openPglite(config.database.dataDir, options.memory ?? false);
}

async function openPostgres(url: string, poolSize: number, preparedStatements: boolean): Promise<Database> {
  const { PrismaPg } = await import("@prisma/adapter-pg");
  const stats: DbStats = { statements: 0, writes: 0 };
  const location = describeUrl(url);
  const pool = await connectPool(url, { max: poolSize, connectionTimeoutMillis: 10_000 }, stats, location);
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  return {
    backend: "postgres",
    prisma,
    ...pgStatementPath(pool, preparedStatements),
    driver: { kind: "postgres", pool },
    stats,
    location,
    async close() {
      await prisma.$disconnect().catch(() => {});
      await pool.end().catch(() => {});
    },
  };
}

/** A pool whose statements count in stats, checked by one connection (a clear error when the server is not there). */
async function connectPool(url: string, options: pg.PoolConfig, stats: DbStats, location: string): Promise<pg.Pool> {
  const pool = await createPool(url, options, stats);
  try {
    const c = await pool.connect();
    c.release();
  } catch (e) {
    await pool.end().catch(() => {});
    throw connectionError(e, location);
  }
  return pool;
}

/** A pool whose statements count in stats; connects on first use. */
export async function createPool(url: string, options: pg.PoolConfig, stats: DbStats): Promise<pg.Pool> {
  const { default: pgModule } = await import("pg");
  const pool = new pgModule.Pool({ connectionString: url, ...options });
  pool.on("error", () => {
    /* idle client errors surface on the next query */
  });
  pool.on("connect", (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      return countStatement(stats, args[0], query(...args));
    };
  });
  return pool;
}

/**
 * The raw-driver statement path over a pool. With preparedStatements each distinct text is a
 * named prepared statement; without, every statement is unnamed (parsed each time), which a
 * pooler in transaction mode that cannot track named statements (PgBouncer before 1.21) needs.
 */
export function pgStatementPath(pool: pg.Pool, preparedStatements: boolean): SqlStatements & Pick<Database, "sqlTransaction"> {
  const names = new Map<string, string>();
  const query = async (target: pg.Pool | pg.PoolClient, strings: TemplateStringsArray, values: unknown[]) => {
    const q = Prisma.sql(strings, ...(values as Prisma.Sql[]));
    const text = q.text;
    if (!preparedStatements) return target.query({ text, values: q.values });
    let name = names.get(text);
    if (!name) names.set(text, (name = `monoscope_${names.size + 1}`));
    return target.query({ name, text, values: q.values });
  };
  const on = (target: pg.Pool | pg.PoolClient): SqlStatements => {
    const sql: Database["sql"] = async (strings, ...values) => (await query(target, strings, values)).rows;
    return { sql, rows: checkedRows(sql), run: async (strings, ...values) => (await query(target, strings, values)).rowCount ?? 0 };
  };
  return {
    ...on(pool),
    async sqlTransaction(fn) {
      const client = await pool.connect();
      let broken = false;
      try {
        await client.query("BEGIN");
        const r = await fn(on(client));
        await client.query("COMMIT");
        return r;
      } catch (e) {
        await client.query("ROLLBACK").catch(() => {
          broken = true;
        });
        throw e;
      } finally {
        client.release(broken ? new Error("connection failed during a transaction") : undefined);
      }
    },
  };
}

/**
 * PGlite runs PostgreSQL single-user, where nothing checkpoints when WAL piles up (that is the
 * checkpointer's job, and there is none) and a checkpoint keeps up to max_wal_size (1 GB by
 * default) of old segments for reuse: a demo setup left 497 MB of WAL beside 339 MB of tables.
 * So the embedded backend checkpoints itself once PGLITE_MAX_WAL_MB has been written since the
 * last checkpoint, and a small max_wal_size keeps few segments after one.
 */
export const PGLITE_MAX_WAL_MB = 64;
const PGLITE_START_PARAMS = [...PGlite.defaultStartParams, "-c", `max_wal_size=${PGLITE_MAX_WAL_MB}MB`, "-c", "min_wal_size=32MB"];

/** After a statement, at most once a second and outside transactions: CHECKPOINT if enough WAL was written. */
function walBound(db: PGlite, raw: Pick<PGlite, "query" | "exec">): () => Promise<void> {
  let checkedAt = 0;
  let lastCheckpoint = 0;
  let running = false;
  return async () => {
    if (running || Date.now() - checkedAt < 1000 || db.isInTransaction()) return;
    running = true;
    checkedAt = Date.now();
    try {
      const [row] = (await raw.query<{ b: number }>("SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')::float8 AS b")).rows;
      if (row && row.b - lastCheckpoint > PGLITE_MAX_WAL_MB * 2 ** 20) {
        await raw.exec("CHECKPOINT");
        lastCheckpoint = row.b;
      }
    } catch {
      /* a failed check leaves the next statement to try again */
    } finally {
      running = false;
    }
  };
}

async function openPglite(dataDir: string, memory: boolean): Promise<Database> {
  let lock: DirLock | null = null;
  if (!memory) {
    lock = lockDataDir(dataDir);
    try {
      mkdirSync(dataDir, { recursive: true });
      accessSync(dataDir, constants.W_OK);
    } catch (e) {
      lock.release();
      throw new AppError(
        ErrorCode.BAD_USER_INPUT,
        `data dir ${dataDir} is not writable (${(e as NodeJS.ErrnoException).code}): choose another with --data-dir or MONOSCOPE_DATA_DIR`,
      );
    }
  }
  const stats: DbStats = { statements: 0, writes: 0 };
  let db: PGlite;
  try {
    db = await PGlite.create(memory ? undefined : dataDir, { extensions: { vector, pg_trgm }, startParams: PGLITE_START_PARAMS });
  } catch (e) {
    lock?.release();
    throw new AppError(ErrorCode.DATABASE_UNAVAILABLE, `cannot open the embedded database in ${dataDir}: ${(e as Error).message}`, {
      cause: e,
    });
  }
  const raw = { query: db.query.bind(db), exec: db.exec.bind(db) };
  const boundWal = memory ? null : walBound(db, raw);
  for (const method of ["query", "exec"] as const) {
    const original = raw[method] as (...args: unknown[]) => Promise<unknown>;
    (db as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
      const result = countStatement(stats, args[0], original(...args));
      return boundWal ? result.then(async (r) => (await boundWal(), r)) : result;
    };
  }
  // Transactions (sqlTransaction, Prisma's, the bulk path's) may write: they count as writes when they start and end.
  const transaction = db.transaction.bind(db);
  (db as { transaction: typeof transaction }).transaction = <T>(fn: Parameters<typeof transaction<T>>[0]) => {
    stats.writes++;
    return countStatement(stats, null, transaction<T>(fn));
  };
  // Built on first use: most reads go through sql, and a short command (`monoscope query`)
  // should not pay for Prisma's client set-up.
  let prisma: PrismaClient | null = null;
  const query = (target: PGlite | Transaction, count: boolean, strings: TemplateStringsArray, values: unknown[]) => {
    const q = Prisma.sql(strings, ...(values as Prisma.Sql[]));
    // db.query counts itself; a transaction's queries do not
    return count ? countStatement(stats, q.text, target.query(q.text, q.values)) : target.query(q.text, q.values);
  };
  const on = (target: PGlite | Transaction, count: boolean): SqlStatements => {
    const sql: Database["sql"] = async (strings, ...values) => (await query(target, count, strings, values)).rows;
    return { sql, rows: checkedRows(sql), run: async (strings, ...values) => (await query(target, count, strings, values)).affectedRows ?? 0 };
  };
  const statements = on(db, false);
  return {
    backend: "pglite",
    get prisma() {
      return (prisma ??= new PrismaClient({ adapter: new PrismaPGlite(db) }));
    },
    ...statements,
    sqlTransaction(fn) {
      return db.transaction((t) => fn(on(t, true)));
    },
    driver: { kind: "pglite", pg: db },
    stats,
    location: memory ? "embedded (in memory)" : `embedded (${dataDir})`,
    async close() {
      await prisma?.$disconnect().catch(() => {});
      await db.close().catch(() => {});
      lock?.release();
    },
  };
}

function checkedRows(sql: Database["sql"]): Database["rows"] {
  return (parser) =>
    async (strings, ...values) =>
      parseRows(parser, await sql(strings, ...values));
}

export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `PostgreSQL at ${u.hostname}:${u.port || 5432}${u.pathname}`;
  } catch {
    return "PostgreSQL (unparseable DATABASE_URL)";
  }
}

function connectionError(e: unknown, location: string): AppError {
  const err = e as NodeJS.ErrnoException & { code?: string };
  const hint = "check DATABASE_URL, or unset it to use the embedded database (scripts/setup-postgres.sh starts a local server)";
  let reason: string;
  switch (err.code) {
    case "ECONNREFUSED":
      reason = "connection refused: is the server running on that port?";
      break;
    case "ENOTFOUND":
    case "EAI_AGAIN":
      reason = "host not found";
      break;
    case "28P01":
    case "28000":
      reason = "authentication failed";
      break;
    case "3D000":
      reason = "the database does not exist (create it with createdb)";
      break;
    default:
      reason = redactSecrets(err.message ?? String(e));
  }
  return new AppError(ErrorCode.DATABASE_UNAVAILABLE, `cannot connect to ${location}: ${reason}; ${hint}`, { cause: e });
}
