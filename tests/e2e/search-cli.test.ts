// `monoscope search` as a user runs it, on the hand-made family: --reindex, the three
// modes, JSON and table output, filters and errors.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import { silentLogger } from "../../src/logger.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/backend.ts";
import { runCli } from "../helpers/cli.ts";
import { loadToyFixture } from "../helpers/search-fixture.ts";

let dir: string;
let db: TestDatabase;

const cli = (args: string[]) => runCli(dir, db.env, args);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "monoscope-search-"));
  db = await createTestDatabase();
  const config = db.backend === "pglite" ? loadConfig({ DATABASE_URL: "" } as NodeJS.ProcessEnv, { dataDir: dir }) : db.config;
  const app = await createApp(config, { log: silentLogger });
  await loadToyFixture(app);
  await app.close();
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await db?.drop();
});

describe("monoscope search", () => {
  it("--reindex builds search documents and offline label vectors for every SAE", () => {
    const r = cli(["search", "--reindex"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/toy\/small: 8 label vectors, 9 search documents/);
    expect(r.stdout).toBe("");
  });

  it("prints JSON hits with what matched", () => {
    const r = cli(["search", "volcano eruption", "--mode", "LEXICAL", "--json", "--k", "3"]);
    expect(r.code, r.stderr).toBe(0);
    const hits = JSON.parse(r.stdout) as { saeId: string; index: number; score: number; matchedText: string }[];
    expect(hits[0]).toMatchObject({ saeId: "toy/small", index: 6 });
    expect(hits[0].matchedText).toMatch(/volcano/);
  });

  it("prints one line per hit: rank, score, feature, matched text (HYBRID by default)", () => {
    const r = cli(["search", "giggling and laughter", "--k", "2"]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^\s*1\s+0\.\d{4}\s+toy\/small:1\s+laughter and amusement$/);
  });

  it("filters by SAE and label method", () => {
    const r = cli(["search", "cooking football", "--label-method", "llm-explain/v1", "--sae", "toy/small", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { index: number }[]).map((h) => h.index).sort()).toEqual([7, 8]);
  });

  it("explains what is wrong in one line", () => {
    const none = cli(["search"]);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/give the text to search for/);
    const sae = cli(["search", "x", "--sae", "nope"]);
    expect(sae.code).toBe(1);
    expect(sae.stderr).toMatch(/SAE "nope" not found/);
    const mode = cli(["search", "x", "--mode", "FUZZY"]);
    expect(mode.code).toBe(1);
    expect(mode.stderr).toMatch(/FUZZY/);
  });
});
