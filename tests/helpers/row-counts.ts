// Row counts of every table in the public schema, to assert that a failed ingest
// changed nothing (and that a successful one changed what it should).
import type { Database } from "../../src/db/database.ts";

async function raw<T>(db: Database, sql: string): Promise<T[]> {
  if (db.driver.kind === "postgres") return (await db.driver.pool.query(sql)).rows as T[];
  return (await db.driver.pg.query<T>(sql)).rows;
}

export async function rowCounts(db: Database): Promise<Record<string, number>> {
  const tables = await raw<{ t: string }>(
    db,
    "SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' AND tablename <> '_prisma_migrations' ORDER BY 1",
  );
  const out: Record<string, number> = {};
  for (const { t } of tables) {
    if (!/^[a-z_][a-z0-9_]*$/.test(t)) continue;
    const [r] = await raw<{ n: string | number }>(db, `SELECT count(*) AS n FROM "${t}"`);
    out[t] = Number(r!.n);
  }
  return out;
}

export async function rawQuery<T = Record<string, unknown>>(db: Database, sql: string, params: unknown[] = []): Promise<T[]> {
  if (db.driver.kind === "postgres") return (await db.driver.pool.query(sql, params)).rows as T[];
  return (await db.driver.pg.query<T>(sql, params)).rows;
}
