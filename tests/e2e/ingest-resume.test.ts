// Post-ingest steps are durable: an ingest killed with SIGKILL after its SAE turned ready,
// while neighbour lists were being stored, leaves the step pending (Sae.pendingSteps says so),
// and the rerun, which has nothing new to load, finishes every list.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/app.ts";
import { silentLogger } from "../../src/logger.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/backend.ts";
import { rawQuery } from "../helpers/row-counts.ts";
import { writeCheckpoint } from "../helpers/saelens-fixture.ts";

const root = join(import.meta.dirname, "..", "..");
let dir: string;
let db: TestDatabase;

const env = () => ({ PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...db.env });
const argv = (args: string[]) => [join(root, "bin/monoscope.js"), "--data-dir", join(dir, "data"), ...args];

function cli(args: string[]) {
  const r = spawnSync(process.execPath, argv(args), { encoding: "utf8", env: env() });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function pendingSteps(saeId: string) {
  const r = cli(["query", `{ sae(id: ${JSON.stringify(saeId)}) { id pendingSteps { step state done total } } }`]);
  expect(r.code, r.stderr).toBe(0);
  const out = JSON.parse(r.stdout);
  expect(out.errors, r.stdout).toBeUndefined();
  return out.data.sae.pendingSteps as { step: string; state: string; done: number; total: number | null }[];
}

/** Runs SQL on the CLI's database, closed again afterwards (the embedded one allows one process). */
async function withDb<T>(fn: (app: Awaited<ReturnType<typeof createApp>>) => Promise<T>): Promise<T> {
  const config = db.config.database.kind === "pglite" ? { ...db.config, database: { kind: "pglite" as const, dataDir: join(dir, "data", "pglite") } } : db.config;
  const app = await createApp(config, { log: silentLogger });
  try {
    return await fn(app);
  } finally {
    await app.close();
  }
}

/** Features with and without a stored neighbour list. */
async function neighbourLists(saeId: string) {
  const [r] = await withDb((app) =>
    rawQuery<{ built: number; missing: number }>(
      app.db,
      `SELECT count(*) FILTER (WHERE nn_indices IS NOT NULL)::int AS built, count(*) FILTER (WHERE nn_indices IS NULL)::int AS missing
       FROM feature WHERE sae_id = $1 AND decoder IS NOT NULL`,
      [saeId],
    ),
  );
  return r!;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "monoscope-ingest-resume-"));
  db = await createTestDatabase();
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await db.drop();
});

describe("post-ingest steps survive kill -9", () => {
  it("a kill during neighbour lists leaves the step pending; the rerun builds every list", { timeout: 900_000 }, async () => {
    const ck = join(dir, "ck");
    const dSae = 24_000;
    await writeCheckpoint(ck, { dIn: 64, dSae, seed: 11 });
    const child = spawn(process.execPath, argv(["-v", "ingest", "saelens", ck, "--sae", "resume-me", "--model", "resume-model"]), {
      env: env(),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
    await new Promise<void>((resolve, reject) => {
      child.stderr.on("data", (d: Buffer) => {
        stderr += d.toString();
        // The SAE is ready and some blocks of neighbour lists are stored, not all: kill it now.
        const m = /SAE resume-me: neighbour lists (\d+)\/(\d+)/.exec(stderr.split("\n").filter((l) => /neighbour lists \d/.test(l)).at(-1) ?? "");
        if (m && Number(m[1]) > 0 && Number(m[1]) < Number(m[2])) resolve();
      });
      void exited.then(() => reject(new Error(`ingest finished before it could be killed:\n${stderr}`)));
    });
    child.kill("SIGKILL");
    expect((await exited).signal).toBe("SIGKILL");

    const before = await neighbourLists("resume-me");
    expect(before.built).toBeGreaterThan(0);
    expect(before.missing).toBeGreaterThan(0);
    const pending = pendingSteps("resume-me");
    const neighbours = pending.find((s) => s.step === "neighbours");
    // Its runner is dead, so it reads PENDING, with the progress it had stored.
    expect(neighbours).toMatchObject({ state: "PENDING", total: dSae });
    expect(neighbours!.done).toBeGreaterThan(0);
    expect(neighbours!.done).toBeLessThan(dSae);
    expect(pending.map((s) => s.step)).toEqual(expect.arrayContaining(["neighbours", "umap", "alignment"]));
    expect(pending.map((s) => s.step)).not.toContain("search");

    const r = cli(["ingest", "saelens", ck, "--sae", "resume-me", "--model", "resume-model"]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ saeId: "resume-me", outcome: "skipped" });
    expect(r.stderr).toMatch(/post-ingest step neighbours: resuming/);
    expect(r.stderr).not.toMatch(/post-ingest step (umap|alignment): resuming/); // never started: not a resume
    expect(await neighbourLists("resume-me")).toEqual({ built: dSae, missing: 0 });
    expect(pendingSteps("resume-me")).toEqual([]);

    // A step whose runner on another host stopped beating is taken over by `monoscope jobs resume`,
    // which builds only the lists that are missing.
    await withDb(async (app) => {
      await rawQuery(app.db, "UPDATE feature SET nn_indices = NULL, nn_cosines = NULL WHERE sae_id = $1 AND idx % 3 = 0", ["resume-me"]);
      await rawQuery(
        app.db,
        `UPDATE sae_step SET state = 'RUNNING', runner = 'elsewhere:1', fresh = false, heartbeat_at = now() - interval '1 hour'
         WHERE sae_id = $1 AND step = 'neighbours'`,
        ["resume-me"],
      );
    });
    expect(pendingSteps("resume-me")).toEqual([{ step: "neighbours", state: "PENDING", done: dSae, total: dSae }]);
    const resume = cli(["jobs", "resume"]);
    expect(resume.code, resume.stderr).toBe(0);
    expect(resume.stdout).toBe("finished 1 post-ingest step(s) of resume-me\n");
    expect(resume.stderr).toMatch(new RegExp(`stored top-32 neighbours of ${dSae / 3} features`));
    expect(await neighbourLists("resume-me")).toEqual({ built: dSae, missing: 0 });
    expect(pendingSteps("resume-me")).toEqual([]);
    expect(cli(["jobs", "resume"]).stdout).toBe("no post-ingest steps pending\n");
  });
});
