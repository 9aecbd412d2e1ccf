// MONOSCOPE_PREPARED_STATEMENTS=off: the raw-driver path sends unnamed statements, which
// PgBouncer before 1.21 in transaction mode needs; on (the default) it prepares each text by name.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../../src/config.ts";
import { type Database, openDatabase } from "../../../src/db/database.ts";
import { createTestDatabase, type TestDatabase, testBackend } from "../../helpers/backend.ts";

describe.skipIf(testBackend() !== "postgres")("prepared statements setting", () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await createTestDatabase();
  });
  afterAll(async () => t?.drop());

  const prepared = async (db: Database) => {
    for (let i = 0; i < 3; i++) expect(await db.sql`SELECT ${i}::int AS n`).toEqual([{ n: i }]);
    const tx = await db.sqlTransaction(async (s) => s.sql`SELECT ${7}::int AS n`);
    expect(tx).toEqual([{ n: 7 }]);
    const [row] = (await db.sql`SELECT count(*)::int AS n FROM pg_prepared_statements`) as { n: number }[];
    return row!.n;
  };

  it("prepares statements by name by default, and not at all when off", async () => {
    for (const [value, expectNamed] of [
      [undefined, true],
      ["off", false],
    ] as const) {
      const env = { DATABASE_URL: t.url!, MONOSCOPE_DB_POOL_SIZE: "1", ...(value ? { MONOSCOPE_PREPARED_STATEMENTS: value } : {}) };
      const db = await openDatabase(loadConfig(env as NodeJS.ProcessEnv));
      try {
        const n = await prepared(db);
        if (expectNamed) expect(n).toBeGreaterThan(0);
        else expect(n).toBe(0);
      } finally {
        await db.close();
      }
    }
  });
});
