// The CLI as a user runs it: migrate, query on an empty database, errors.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../helpers/backend.ts";
import { runCli, runCliAsync } from "../helpers/cli.ts";

let dir: string;
let db: TestDatabase;

const cli = (args: string[], env: Record<string, string> = {}) => runCli(dir, { ...db.env, ...env }, args);
const cliAsync = (args: string[]) => runCliAsync(dir, db.env, args);

/** Runs at most n of the given tasks at once (each CLI start loads the whole program). */
function limited(n: number) {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (active >= n) await new Promise<void>((r) => waiting.push(r));
    active++;
    try {
      return await task();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

/** The command names a commander help text lists under "Commands:" (without `help`). */
function listedCommands(help: string): string[] {
  const at = help.indexOf("\nCommands:\n");
  if (at < 0) return [];
  return help
    .slice(at + "\nCommands:\n".length)
    .split("\n")
    .flatMap((line) => /^  ([a-z][\w-]*)/.exec(line)?.[1] ?? [])
    .filter((name) => name !== "help");
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "monoscope-cli-"));
  db = await createTestDatabase();
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await db.drop();
});

describe("monoscope CLI", () => {
  it("prints help for every verb", async () => {
    const top = cli(["--help"]);
    expect(top.code, top.stderr).toBe(0);
    const verbs = listedCommands(top.stdout);
    // Guards the parsing of the listing, not the list itself: every verb comes from the help.
    expect(verbs).toEqual(expect.arrayContaining(["serve", "ingest", "query", "demo", "search"]));
    const checked: string[] = [];
    const run = limited(4);
    const check = async (path: string[]) => {
      const r = await run(() => cliAsync([...path, "--help"]));
      expect(r.code, `${path.join(" ")} --help: ${r.stderr}`).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^Usage: monoscope ${path.join(" ")}\\b`));
      expect(r.stderr).toBe("");
      checked.push(path.join(" "));
      // Verbs with sub-verbs (ingest saelens, jobs cancel, …): each of those too.
      await Promise.all(listedCommands(r.stdout).map((sub) => check([...path, sub])));
    };
    await Promise.all(verbs.map((v) => check([v])));
    expect(checked.length).toBeGreaterThan(verbs.length);
    console.log(`help checked for ${checked.length} verbs: ${checked.sort().join(", ")}`);
  }, 180_000);

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
