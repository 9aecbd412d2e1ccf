// The ingest verbs as a user runs them: exit codes, one-line errors on stderr, JSON on
// stdout, export -> rm, and a SIGKILL in the middle of an ingest followed by a rerun.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/app.ts";
import { silentLogger } from "../../src/logger.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/backend.ts";
import { rowCounts } from "../helpers/row-counts.ts";
import { writeCheckpoint } from "../helpers/saelens-fixture.ts";

const root = join(import.meta.dirname, "..", "..");
const corpus = join(root, "tests", "fixtures", "malformed");
let dir: string;
let db: TestDatabase;

const env = () => ({ PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...db.env });
const argv = (args: string[]) => [join(root, "bin/monoscope.js"), "--data-dir", join(dir, "data"), ...args];

function cli(args: string[]) {
  const r = spawnSync(process.execPath, argv(args), { encoding: "utf8", env: env() });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Row counts with the database closed again afterwards (the embedded one allows one process). */
async function counts() {
  const app = await createApp(db.config.database.kind === "pglite" ? { ...db.config, database: { kind: "pglite", dataDir: join(dir, "data", "pglite") } } : db.config, {
    log: silentLogger,
  });
  try {
    return await rowCounts(app.db);
  } finally {
    await app.close();
  }
}

const saes = () => JSON.parse(cli(["query", "{ saes { id featureCount } }"]).stdout).data.saes as { id: string; featureCount: number }[];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "monoscope-ingest-cli-"));
  db = await createTestDatabase();
  const r = cli(["-q", "ingest", "saelens", join(corpus, "_base"), "--sae", "mal-base-sae"]);
  expect(r.code, r.stderr).toBe(0);
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await db.drop();
});

describe("monoscope ingest / export / rm", () => {
  it("lists the verbs", () => {
    const r = cli(["--help"]);
    for (const verb of ["ingest", "export", "rm"]) expect(r.stdout).toContain(verb);
    expect(cli(["ingest", "--help"]).stdout).toMatch(/saelens[\s\S]*neuronpedia[\s\S]*activations/);
  });

  it.each([
    ["truncated-safetensors", ["ingest", "saelens", "{dir}", "--sae", "x1"], /sae_weights\.safetensors: \w+: data ends at byte/],
    ["acts-length-mismatch", ["ingest", "activations", "{dir}/acts.jsonl", "--sae", "mal-base-sae"], /acts\.jsonl:2: values: has 2 values for 3 tokens/],
    ["np-batch-no-dimensions", ["ingest", "neuronpedia", "{dir}/batch-0.json", "--sae", "x2"], /--d-in: required/],
    ["sae-id-of-another-model", ["ingest", "saelens", "{dir}", "--sae", "mal-base-sae"], /--sae: SAE id "mal-base-sae" is already used by model "mal-base"/],
  ])("%s: exit 1, one error line, zero rows changed", async (name, args, error) => {
    const before = await counts();
    const r = cli(["-q", ...(args as string[]).map((a) => a.replace("{dir}", join(corpus, name as string)))]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    const lines = r.stderr.trimEnd().split("\n");
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^monoscope: error: /);
    expect(lines[0]).toMatch(error as RegExp);
    expect(await counts()).toEqual(before);
  });

  it("exports, re-imports under a new id and removes SAEs", { timeout: 600_000 }, () => {
    const out = join(dir, "export");
    const e = cli(["-q", "export", "neuronpedia", "--sae", "mal-base-sae", "--out", out]);
    expect(e.code, e.stderr).toBe(0);
    expect(JSON.parse(e.stdout)).toMatchObject({ saeId: "mal-base-sae", features: 16 });
    const i = cli(["-q", "ingest", "neuronpedia", out, "--sae", "copy-of-base"]);
    expect(i.code, i.stderr).toBe(0);
    expect(JSON.parse(i.stdout)).toMatchObject({ saeId: "copy-of-base", outcome: "created", features: 16 });
    expect(saes().map((s) => s.id).sort()).toEqual(["copy-of-base", "mal-base-sae"]);
    const rm = cli(["-q", "rm", "--sae", "copy-of-base"]);
    expect(rm.code, rm.stderr).toBe(0);
    expect(JSON.parse(rm.stdout).deleted).toMatchObject({ sae: 1, feature: 16 });
    expect(saes().map((s) => s.id)).toEqual(["mal-base-sae"]);
    const again = cli(["rm", "--sae", "copy-of-base"]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/SAE "copy-of-base" not found/);
  });

  it("survives kill -9 in the middle of an ingest: nothing visible, the rerun completes it", { timeout: 600_000 }, async () => {
    const ck = join(dir, "big");
    const dSae = 30_000;
    await writeCheckpoint(ck, { dIn: 256, dSae, seed: 5 });
    const child = spawn(process.execPath, argv(["-v", "ingest", "saelens", ck, "--sae", "big", "--model", "big-model"]), { env: env(), stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
    await new Promise<void>((resolve, reject) => {
      child.stderr.on("data", (d: Buffer) => {
        stderr += d.toString();
        // The SAE row exists (status 'loading') and rows are streaming: kill it now.
        if (/SAE big: loading/.test(stderr)) setTimeout(resolve, 300);
      });
      void exited.then(() => reject(new Error(`ingest finished before it could be killed:\n${stderr}`)));
    });
    child.kill("SIGKILL");
    expect((await exited).signal).toBe("SIGKILL");
    expect(saes().map((s) => s.id)).not.toContain("big");

    const r = cli(["-q", "ingest", "saelens", ck, "--sae", "big", "--model", "big-model"]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ saeId: "big", outcome: "created", features: dSae });
    expect(saes().find((s) => s.id === "big")?.featureCount).toBe(dSae);
  });
});
