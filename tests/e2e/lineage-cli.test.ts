// `monoscope lineage build` as a user runs it, on a family loaded without the post-ingest hook
// (so its lineage starts unbuilt): the summary on stdout, then the stored tree via `query`.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateDecoders, planFamily } from "../../scripts/bench/generator.ts";
import { seedSae } from "../../scripts/bench/seed-decoders.ts";
import { createApp } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import { silentLogger } from "../../src/logger.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/backend.ts";
import { runCli } from "../helpers/cli.ts";

let dir: string;
let db: TestDatabase;

const cli = (args: string[]) => runCli(dir, db.env, args);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "monoscope-lineage-"));
  db = await createTestDatabase();
  const app = await createApp(loadConfig({ ...db.env } as NodeJS.ProcessEnv, { dataDir: dir }), { log: silentLogger });
  try {
    const sizes = [40, 120];
    const mats = planFamily({ sizes, d: 24, seed: 3 }).map(generateDecoders);
    for (const [i, n] of sizes.entries()) {
      await seedSae(app.db, { modelId: "cli-model", saeId: `cli/${n}`, familyId: "cli", dIn: 24, decoders: mats[i], n });
    }
  } finally {
    await app.close();
  }
}, 300_000);
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await db.drop();
});

describe("monoscope lineage", () => {
  it("says the lineage is unbuilt, builds it, then serves the tree", () => {
    const before = cli(["query", '{ splitLineage(saeId: "cli/40", index: 0) { split } }']);
    expect(before.stdout).toContain("monoscope lineage build --family cli");
    const bad = cli(["lineage", "build", "--family", "cli", "--threshold", "abc"]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain("--threshold must be a number");
    const r = cli(["lineage", "build", "--family", "cli"]);
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.saes.map((s: { id: string }) => s.id)).toEqual(["cli/40", "cli/120"]);
    expect(summary.pairs[0].edges).toBeGreaterThan(0);
    expect(r.stderr).toContain("cli/40 (40) -> cli/120 (120)");
    const q = cli(["query", '{ splitLineage(saeId: "cli/40", index: 0, direction: DOWN) { split origin children { cosine } } }']);
    expect(q.code, q.stderr).toBe(0);
    const node = JSON.parse(q.stdout).data.splitLineage;
    expect(node.origin).toBe("SMALLEST");
    expect(["STABLE", "SPLIT", "VANISHED"]).toContain(node.split);
  }, 600_000); // four CLI processes, each opening the database
});
