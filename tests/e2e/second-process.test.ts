// The CLI in a second terminal while `monoscope serve` holds the data dir: a search and
// an ingest (of a checkpoint named by a path relative to the second process's directory)
// give the same output as a standalone CLI, and the ingested SAE is then served. On the
// embedded backend they go through the server (its /graphql and its local socket); with
// DATABASE_URL the second process connects to PostgreSQL itself.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import { silentLogger } from "../../src/logger.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/backend.ts";
import { ROOT, runCli } from "../helpers/cli.ts";
import { loadToyFixture } from "../helpers/search-fixture.ts";
import { type ServeProcess, startServe, waitFor } from "../helpers/serve-process.ts";

const FIXTURES = join(ROOT, "tests", "fixtures", "malformed");
let dir: string;
let dataDir: string;
let db: TestDatabase;
let server: ServeProcess;
const embedded = () => db.backend === "pglite";

/** The CLI run from another working directory, as from a second terminal. */
function cliIn(cwd: string, args: string[]) {
  const r = spawnSync(process.execPath, [join(ROOT, "bin/monoscope.js"), "--data-dir", dataDir, ...args], {
    cwd,
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...db.env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "monoscope-second-"));
  dataDir = join(dir, "data");
  db = await createTestDatabase();
  const config = embedded() ? loadConfig({ DATABASE_URL: "" } as NodeJS.ProcessEnv, { dataDir }) : db.config;
  const app = await createApp(config, { log: silentLogger });
  await loadToyFixture(app);
  await app.services.search.reindexAll(() => {});
  await app.close();
  server = await startServe(dataDir, db.env);
});
afterAll(async () => {
  await server?.stop("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
  await db?.drop();
});

describe("the CLI while serve holds the data dir", () => {
  it("records the server's address and an owner-only socket in the lock (embedded)", () => {
    if (!embedded()) return;
    const lock = JSON.parse(readFileSync(join(dataDir, "pglite", "monoscope.lock"), "utf8"));
    expect(lock).toMatchObject({ pid: server.pid, server: { url: server.url, port: Number(new URL(server.url).port), socket: join(dataDir, "monoscope.sock") } });
    const st = statSync(lock.server.socket);
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o777).toBe(0o600);
  });

  it("answers search and query from a second process", async () => {
    const s = runCli(dataDir, db.env, ["search", "giggling and laughter", "--k", "2", "--json"]);
    expect(s.code, s.stderr).toBe(0);
    const hits = JSON.parse(s.stdout) as { saeId: string; index: number; score: number; matchedText: string }[];
    expect(hits).toHaveLength(2);
    expect(hits[0]).toMatchObject({ saeId: "toy/small", index: 1, matchedText: "laughter and amusement" });
    const q = runCli(dataDir, db.env, ["query", "{ saes { id } }"]);
    expect(q.code, q.stderr).toBe(0);
    expect(JSON.parse(q.stdout).data.saes.map((x: { id: string }) => x.id).sort()).toEqual(["other/sae", "toy/large", "toy/small"]);
    const jobs = runCli(dataDir, db.env, ["jobs", "list"]);
    expect(jobs.code, jobs.stderr).toBe(0);
    expect(jobs.stdout).toBe("no jobs\n");
    const bad = runCli(dataDir, db.env, ["query", "{ nope }"]);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout).errors[0].message).toMatch(/nope/);
    // Through the server's /graphql, as any client (its access log names the CLI's operation).
    if (embedded()) {
      await waitFor(/"operation":"MonoscopeCliSearch"/, server.stderr);
      await waitFor(/"operation":"MonoscopeCliJobs"/, server.stderr);
    }
  });

  it("ingests a checkpoint from a second process; the server then serves the new SAE", async () => {
    const r = cliIn(FIXTURES, ["ingest", "saelens", "_base", "--sae", "second-process-sae"]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ saeId: "second-process-sae", outcome: "created", features: 16 });
    // The importer's log lines come back to the client's stderr.
    expect(r.stderr).toMatch(/SAE second-process-sae created: 16 features/);
    if (embedded()) await waitFor(/ran `ingest saelens` for a local client/, server.stderr);
    const body = await server.graphql(`{ sae(id: "second-process-sae") { featureCount dIn } features(saeId: "second-process-sae", first: 1) { totalCount } }`);
    expect(body).toEqual({ data: { sae: { featureCount: 16, dIn: 8 }, features: { totalCount: 16 } } });
  });

  it("passes a failing verb's error line and exit code through", () => {
    const r = runCli(dataDir, db.env, ["rm", "--sae", "no-such-sae"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr.trimEnd()).toBe('monoscope: error: SAE "no-such-sae" not found');
  });

  it("keeps the clear error when the data dir is locked by a process that is not a server (embedded)", () => {
    if (!embedded()) return;
    const other = join(dir, "locked");
    mkdirSync(join(other, "pglite"), { recursive: true });
    // A live process (this test runner) that records no server address.
    writeFileSync(join(other, "pglite", "monoscope.lock"), JSON.stringify({ pid: process.pid, command: "some other monoscope", since: "2026-01-01T00:00:00Z" }));
    const r = runCli(other, {}, ["query", "{ saes { id } }"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`data dir .* is in use by process ${process.pid} \\(some other monoscope, since 2026-01-01`));
  });
});
