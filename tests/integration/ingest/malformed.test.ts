// The malformed-artifact corpus (tests/fixtures/malformed, written by generate.ts): every
// case fails with one line naming file, field and problem, and changes no rows in any
// table. The importers run in process here (fast, both backends); tests/e2e/ingest-cli.test.ts
// drives a sample of the same cases through the CLI for exit codes and stderr.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Command } from "commander";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { App } from "../../../src/app.ts";
import { registerIngest } from "../../../src/cli/commands/ingest.ts";
import { importSaelens } from "../../../src/ingest/saelens/import-saelens.ts";
import { reportErrorLine } from "../../helpers/errors.ts";
import { openTestApp, type TestApp } from "../../helpers/backend.ts";
import { rowCounts } from "../../helpers/row-counts.ts";

export const CORPUS = join(import.meta.dirname, "..", "..", "fixtures", "malformed");
export interface MalformedCase {
  name: string;
  args: string[];
  error: string;
}
export const cases: MalformedCase[] = JSON.parse(readFileSync(join(CORPUS, "cases.json"), "utf8"));

/**
 * Runs a case's arguments through the CLI's own `ingest` verbs (flags, option mapping,
 * importer), in process and against `app`. A fresh program per case: commander keeps
 * parsed option values on the command objects.
 */
export async function runCase(app: App, c: MalformedCase): Promise<void> {
  const program = new Command("monoscope")
    .option("-q, --quiet", "no progress bars")
    .exitOverride()
    .configureOutput({ writeOut: () => {}, writeErr: () => {} });
  registerIngest(program, (_cmd, fn) => fn(app));
  const args = c.args.map((a) => a.replace("{dir}", join(CORPUS, c.name)));
  await program.parseAsync(["--quiet", ...args], { from: "user" });
}

let t: TestApp;
beforeAll(async () => {
  t = await openTestApp();
  await importSaelens(t.app.services.ingest, { dir: join(CORPUS, "_base"), saeId: "mal-base-sae" });
});
afterAll(async () => {
  await t.close();
});

describe("malformed artifacts", () => {
  it("has at least 30 cases covering every importer", () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
    for (const verb of ["saelens", "activations", "neuronpedia"]) expect(cases.some((c) => c.args[1] === verb)).toBe(true);
  });

  it.each(cases.map((c) => [c.name, c]))("%s: one-line error, zero rows changed", async (_name, c) => {
    const before = await rowCounts(t.app.db);
    const err = await runCase(t.app, c as MalformedCase).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err, "the import must fail").not.toBeNull();
    const { code, line } = reportErrorLine(err);
    expect(code, line).toBe(1); // a user error, not a crash
    expect(line).not.toContain("\n");
    expect(line).toMatch(new RegExp((c as MalformedCase).error));
    expect(await rowCounts(t.app.db)).toEqual(before);
  });
});
