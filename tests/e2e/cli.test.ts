// The CLI as a user runs it: migrate, query on an empty database, errors.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../helpers/backend.ts";
import { runCli } from "../helpers/cli.ts";

let dir: string;
let db: TestDatabase;

const cli = (args: string[], env: Record<string, string> = {}) => runCli(dir, { ...db.env, ...env }, args);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "monoscope-cli-"));
  db = await createTestDatabase();
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await db.drop();
});

describe("monoscope CLI", () => {
  it("prints help for every verb", () => {
    const r = cli(["--help"]);
    expect(r.code).toBe(0);
    for (const verb of ["migrate", "query", "serve"]) expect(r.stdout).toContain(verb);
  });

  it("migrates, then re-running is a no-op", () => {
    const first = cli(["migrate"]);
    expect(first.code, first.stderr).toBe(0);
    const second = cli(["migrate"]);
    expect(second.code).toBe(0);
    expect(second.stderr).toContain("nothing to do");
  });

  it("answers a query with only JSON on stdout", () => {
    const r = cli(["query", "{ saes { id } }"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('{"data":{"saes":[]}}');
  });

  it("exits 1 with the errors in the JSON on an invalid query", () => {
    const r = cli(["query", "{ nope }"]);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).errors[0].message).toMatch(/nope/);
  });

  it("rejects bad --variables with a clear message", () => {
    const r = cli(["query", "{ saes { id } }", "--variables", "{oops"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--variables: not valid JSON/);
  });

  it("names the cause when DATABASE_URL is unreachable", () => {
    const r = cli(["migrate"], { DATABASE_URL: "postgresql://nobody@127.0.0.1:1/none" });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot connect to PostgreSQL at 127\.0\.0\.1:1.*connection refused/);
  });
});
