// `monoscope map --sae <id>` as a user runs it, on both backends: JSON summary on stdout,
// progress on stderr, the same map for the same seed, a clear error for an unknown SAE.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import { silentLogger } from "../../src/logger.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/backend.ts";
import { runCli } from "../helpers/cli.ts";
import { rng } from "../helpers/feature-seed.ts";

let dir: string;
let db: TestDatabase;
const N = 60;

const cli = (args: string[]) => runCli(dir, db.env, args);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "monoscope-map-"));
  db = await createTestDatabase();
  const app = await createApp(loadConfig({ ...db.env, MONOSCOPE_DATA_DIR: dir } as NodeJS.ProcessEnv), { log: silentLogger });
  const r = rng(11);
  await app.services.ingest.ingestSae(
    { model: { id: "m" }, sae: { id: "m/s", architecture: "standard", dIn: 8, dSae: N }, source: { format: "test", path: "x" }, contentHash: "x" },
    async (sink) => sink.features(Array.from({ length: N }, (_, index) => ({ index, decoder: Array.from({ length: 8 }, () => r() - 0.5) }))),
  );
  await app.close();
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await db.drop();
});

const umapOf = () => {
  const r = cli(["query", `{ features(saeId: "m/s", first: ${N}) { edges { node { umap { x y } } } } }`]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout).data.features.edges.map((e: any) => e.node.umap);
};

describe("monoscope map", () => {
  it("stores a map and prints a JSON summary; the same seed gives the same map", () => {
    const a = cli(["map", "--sae", "m/s", "--seed", "5", "--epochs", "40"]);
    expect(a.code, a.stderr).toBe(0);
    expect(JSON.parse(a.stdout)).toMatchObject({ saeId: "m/s", features: N });
    expect(a.stderr).toMatch(/stored a 2-D map of 60 features/);
    const first = umapOf();
    expect(first.every((p: any) => p && Number.isFinite(p.x) && Number.isFinite(p.y))).toBe(true);
    expect(cli(["map", "--sae", "m/s", "--seed", "5", "--epochs", "40"]).code).toBe(0);
    expect(umapOf()).toEqual(first);
  });

  it("fails with one line for an unknown SAE and for a bad option", () => {
    const r = cli(["map", "--sae", "nope"]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('monoscope: error: SAE "nope" not found');
    const bad = cli(["map", "--sae", "m/s", "--min-dist", "x"]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--min-dist must be a number/);
  });
});
