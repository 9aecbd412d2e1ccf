// Applies prisma/migrations/*/migration.sql in order, each in its own transaction,
// and records them in Prisma's own `_prisma_migrations` table (so `prisma migrate
// deploy` and this runner agree). Works on PostgreSQL 15+ and PGlite.
import { createHash, randomUUID } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { AppError, ErrorCode } from "../errors.ts";
import { z } from "zod";
import type { Database } from "./database.ts";
import { packagePath } from "../paths.ts";
import { parseRows } from "./rows.ts";

const AppliedRow = z.object({ migration_name: z.string(), checksum: z.string() });

export const MIGRATIONS_DIR = packagePath("prisma", "migrations");

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

export interface MigrateResult {
  applied: string[];
  alreadyApplied: number;
}

export function listMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(dir, d.name, "migration.sql")))
    .map((d) => d.name)
    .sort()
    .map((name) => {
      const sql = readFileSync(join(dir, name, "migration.sql"), "utf8");
      return { name, sql, checksum: createHash("sha256").update(sql).digest("hex") };
    });
}

const BOOKKEEPING = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
  "id" VARCHAR(36) PRIMARY KEY NOT NULL,
  "checksum" VARCHAR(64) NOT NULL,
  "finished_at" TIMESTAMPTZ,
  "migration_name" VARCHAR(255) NOT NULL,
  "logs" TEXT,
  "rolled_back_at" TIMESTAMPTZ,
  "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
  "applied_steps_count" INTEGER NOT NULL DEFAULT 0
)`;

/** Runs one function inside a transaction on the raw driver (simple-protocol SQL allowed). */
async function inTransaction(db: Database, fn: (exec: (sql: string, params?: unknown[]) => Promise<{ rows: any[] }>) => Promise<void>) {
  if (db.driver.kind === "postgres") {
    const client = await db.driver.pool.connect();
    try {
      await client.query("BEGIN");
      // Serialise concurrent migrators on the same server.
      await client.query("SELECT pg_advisory_xact_lock(7263541)");
      await fn((sql, params) => client.query(sql, params));
      await client.query("COMMIT");
    } catch (e) {
      await client.query("ROLLBACK").catch(() => {});
      throw e;
    } finally {
      client.release();
    }
  } else {
    await db.driver.pg.transaction(async (tx) => {
      await fn(async (sql, params) => (params ? tx.query(sql, params) : (await tx.exec(sql)).at(-1) ?? { rows: [] }));
    });
  }
}

export async function appliedMigrations(db: Database): Promise<Map<string, string>> {
  const rows = await db.prisma.$queryRaw`
    /* migrations.applied */
    SELECT migration_name, checksum FROM "_prisma_migrations"
    WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`;
  return new Map(parseRows(AppliedRow, rows).map((r) => [r.migration_name, r.checksum]));
}

/** Migrations not yet applied (empty when the schema is current). */
export async function pendingMigrations(db: Database): Promise<string[]> {
  const all = listMigrations();
  let applied: Map<string, string>;
  try {
    applied = await appliedMigrations(db);
  } catch {
    return all.map((m) => m.name);
  }
  return all.filter((m) => !applied.has(m.name)).map((m) => m.name);
}

/**
 * Whether every shipped migration is applied with its shipped checksum, in one read-only
 * statement (false when the bookkeeping table is missing). Every command opens the database
 * this way, so the usual case costs one SELECT instead of a transaction per migration.
 */
async function allApplied(db: Database, migrations: Migration[]): Promise<boolean> {
  const text = `SELECT count(*)::int AS n FROM "_prisma_migrations"
    WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL
      AND (migration_name, checksum) IN (SELECT * FROM unnest($1::text[], $2::text[]))`;
  const values = [migrations.map((m) => m.name), migrations.map((m) => m.checksum)];
  try {
    const rows = db.driver.kind === "postgres" ? (await db.driver.pool.query(text, values)).rows : (await db.driver.pg.query<{ n: number }>(text, values)).rows;
    return Number(rows[0]?.n) === migrations.length;
  } catch {
    return false; // no bookkeeping table yet: the full path below creates it
  }
}

/** `until`: apply only the migrations up to and including this name (tests of an older schema). */
export async function migrate(db: Database, log: (line: string) => void = () => {}, options: { until?: string } = {}): Promise<MigrateResult> {
  const migrations = listMigrations().filter((m) => options.until === undefined || m.name <= options.until);
  if (await allApplied(db, migrations)) return { applied: [], alreadyApplied: migrations.length };
  const applied: string[] = [];
  let already = 0;
  await inTransaction(db, async (exec) => {
    await exec(BOOKKEEPING);
  });
  for (const m of migrations) {
    let didApply = false;
    try {
      await inTransaction(db, async (exec) => {
        const done = await exec(
          `SELECT checksum FROM "_prisma_migrations" WHERE migration_name = $1 AND finished_at IS NOT NULL AND rolled_back_at IS NULL`,
          [m.name],
        );
        if (done.rows.length > 0) {
          if (done.rows[0].checksum !== m.checksum) {
            throw new AppError(
              ErrorCode.CONFLICT,
              `migration ${m.name} was changed after it was applied (checksum differs); restore prisma/migrations/${m.name}/migration.sql`,
            );
          }
          return;
        }
        await exec(m.sql);
        await exec(
          `INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, applied_steps_count, started_at)
           VALUES ($1, $2, now(), $3, 1, now())`,
          [randomUUID(), m.checksum, m.name],
        );
        didApply = true;
      });
    } catch (e) {
      if (e instanceof AppError) throw e;
      throw migrationError(m.name, e, db);
    }
    if (didApply) {
      applied.push(m.name);
      log(`applied ${m.name}`);
    } else already++;
  }
  return { applied, alreadyApplied: already };
}

function migrationError(name: string, e: unknown, db: Database): AppError {
  const msg = (e as Error).message ?? String(e);
  if (/extension "vector"|vector\.control/.test(msg)) {
    return new AppError(
      ErrorCode.DATABASE_UNAVAILABLE,
      `${db.location} has no pgvector extension (migration ${name}: ${msg}); install pgvector on the server (scripts/setup-postgres.sh builds it) and run \`monoscope migrate\` again`,
      { cause: e },
    );
  }
  if (/permission denied/.test(msg)) {
    return new AppError(
      ErrorCode.DATABASE_UNAVAILABLE,
      `migration ${name} failed on ${db.location}: ${msg}; the database user needs CREATE rights (and superuser once, for CREATE EXTENSION vector)`,
      { cause: e },
    );
  }
  return new AppError(
    ErrorCode.DATABASE_UNAVAILABLE,
    `migration ${name} failed on ${db.location} and was rolled back, the database is unchanged: ${msg}`,
    { cause: e },
  );
}
