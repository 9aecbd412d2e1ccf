// Opens the database: embedded PGlite (with pgvector) under the data dir, or a
// PostgreSQL server from DATABASE_URL. Both are reached through Prisma (driver
// adapters) for relational work, and through the raw driver for bulk paths and for
// the hot read paths behind the API (Database.sql).
import { accessSync, constants, mkdirSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
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
   * may be Prisma.sql fragments, as with $queryRaw.
   */
  sql<T = Record<string, unknown>>(strings: TemplateStringsArray, ...values: unknown[]): Promise<T[]>;
  /** Statements sent to the server since open (for batching tests and metrics). */
  readonly stats: { statements: number };
  /** Where the data lives, safe to log (no password). */
  readonly location: string;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** An in-memory PGlite, for tests (no data dir, no lock). */
  memory?: boolean;
}

export async function openDatabase(config: Config, options: OpenOptions = {}): Promise<Database> {
  return config.database.kind === "postgres"
    ? openPostgres(config.database.url, config.database.poolSize)
    : openPglite(config.database.dataDir, options.memory ?? false);
}

async function openPostgres(url: string, poolSize: number): Promise<Database> {
  const [{ default: pg }, { PrismaPg }] = await Promise.all([import("pg"), import("@prisma/adapter-pg")]);
  const stats = { statements: 0 };
  const pool = new pg.Pool({ connectionString: url, max: poolSize, connectionTimeoutMillis: 10_000 });
  pool.on("error", () => {
    /* idle client errors surface on the next query */
  });
  pool.on("connect", (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      stats.statements++;
      return query(...args);
    };
  });
  const location = describeUrl(url);
  try {
    const c = await pool.connect();
    c.release();
  } catch (e) {
    await pool.end().catch(() => {});
    throw connectionError(e, location);
  }
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  const names = new Map<string, string>();
  return {
    backend: "postgres",
    prisma,
    async sql<T>(strings: TemplateStringsArray, ...values: unknown[]) {
      const q = Prisma.sql(strings, ...(values as Prisma.Sql[]));
      const text = q.text;
      let name = names.get(text);
      if (!name) names.set(text, (name = `monoscope_${names.size + 1}`));
      return (await pool.query({ name, text, values: q.values })).rows as T[];
    },
    driver: { kind: "postgres", pool },
    stats,
    location,
    async close() {
      await prisma.$disconnect().catch(() => {});
      await pool.end().catch(() => {});
    },
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
  const stats = { statements: 0 };
  let db: PGlite;
  try {
    db = await PGlite.create(memory ? undefined : dataDir, { extensions: { vector, pg_trgm } });
  } catch (e) {
    lock?.release();
    throw new AppError(ErrorCode.DATABASE_UNAVAILABLE, `cannot open the embedded database in ${dataDir}: ${(e as Error).message}`, {
      cause: e,
    });
  }
  for (const method of ["query", "exec"] as const) {
    const original = db[method].bind(db) as (...args: unknown[]) => unknown;
    (db as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
      stats.statements++;
      return original(...args);
    };
  }
  // Built on first use: most reads go through sql, and a short command (`monoscope query`)
  // should not pay for Prisma's client set-up.
  let prisma: PrismaClient | null = null;
  return {
    backend: "pglite",
    get prisma() {
      return (prisma ??= new PrismaClient({ adapter: new PrismaPGlite(db) }));
    },
    async sql<T>(strings: TemplateStringsArray, ...values: unknown[]) {
      const q = Prisma.sql(strings, ...(values as Prisma.Sql[]));
      return (await db.query<T>(q.text, q.values)).rows;
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

function describeUrl(url: string): string {
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
