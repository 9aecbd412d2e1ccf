// Opens a fresh, migrated database for one test file on the backend chosen by the
// vitest project: an in-memory PGlite, or a new database on the PostgreSQL server.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { inject } from "vitest";
import { type App, createApp } from "../../src/app.ts";
import { type Config, loadConfig } from "../../src/config.ts";
import { silentLogger } from "../../src/logger.ts";

export type TestBackend = "pglite" | "postgres";

export const testBackend = (): TestBackend =>
  process.env.MONOSCOPE_TEST_BACKEND === "postgres" ? "postgres" : "pglite";

export interface TestDatabase {
  backend: TestBackend;
  /** DATABASE_URL of the fresh database (postgres) or undefined (pglite, in memory). */
  url?: string;
  /** Env for spawning the CLI against the same database. */
  env: Record<string, string>;
  config: Config;
  drop(): Promise<void>;
}

/**
 * A fresh empty database (not yet migrated). Deleted SAEs are dropped at once unless
 * extraEnv sets MONOSCOPE_DELETE_GRACE_MS (tests/integration/ingest/soft-delete.test.ts does).
 */
export async function createTestDatabase(env: Record<string, string> = {}): Promise<TestDatabase> {
  const extraEnv = { MONOSCOPE_DELETE_GRACE_MS: "0", ...env };
  if (testBackend() === "pglite") {
    const config = loadConfig({ ...extraEnv, DATABASE_URL: "" } as NodeJS.ProcessEnv);
    return { backend: "pglite", env: { ...extraEnv }, config, drop: async () => {} };
  }
  const admin = inject("postgresAdminUrl");
  const name = `monoscope_t_${randomBytes(6).toString("hex")}`;
  const c = new pg.Client({ connectionString: admin });
  await c.connect();
  await c.query(`CREATE DATABASE ${name}`);
  await c.end();
  const u = new URL(admin);
  u.pathname = `/${name}`;
  const url = u.toString();
  const config = loadConfig({ ...extraEnv, DATABASE_URL: url } as NodeJS.ProcessEnv);
  return {
    backend: "postgres",
    url,
    env: { ...extraEnv, DATABASE_URL: url },
    config,
    async drop() {
      const c2 = new pg.Client({ connectionString: admin });
      await c2.connect();
      await c2.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c2.end();
    },
  };
}

export interface TestApp {
  app: App;
  db: TestDatabase;
  close(): Promise<void>;
}

/** A migrated app on a fresh database: in-memory PGlite, or a new PostgreSQL database. */
export async function openTestApp(extraEnv: Record<string, string> = {}): Promise<TestApp> {
  const db = await createTestDatabase(extraEnv);
  const app = await createApp(db.config, { memory: db.backend === "pglite", log: silentLogger });
  return {
    app,
    db,
    async close() {
      await app.close();
      await db.drop();
    },
  };
}
