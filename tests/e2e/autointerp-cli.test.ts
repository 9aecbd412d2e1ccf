// `monoscope explain` as a user runs it, against the fake OpenAI server: through a
// fault mix every feature ends labelled or failed (none twice), a run killed with
// SIGKILL resumes without paying again for finished features, and --max-cost stops it.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type App, createApp } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import { silentLogger } from "../../src/logger.ts";
import { type FakeOpenAI, faultMix, startFakeOpenAI } from "../fixtures/fake-openai-server.ts";
import { seedWordSae, WORDS } from "../helpers/autointerp-seed.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/backend.ts";

const root = join(import.meta.dirname, "..", "..");
let dir: string;
let db: TestDatabase;
let fake: FakeOpenAI;
let words: string[];
const SAE = "e2e/words/0";

function env(): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? "",
    ...db.env,
    OPENAI_API_KEY: "sk-e2e-0123456789abcdefghijklmnop",
    OPENAI_BASE_URL: fake.url,
    MONOSCOPE_LLM_TIMEOUT_MS: "1500",
    MONOSCOPE_LLM_CONCURRENCY: "3",
  };
}

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], onStart?: (kill: () => void) => void): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(root, "bin/monoscope.js"), "--data-dir", dir, ...args], { env: env() });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("exit", (code, signal) => resolve({ code, signal, stdout, stderr }));
    onStart?.(() => child.kill("SIGKILL"));
  });
}

/** Opens the same database in-process (only while no CLI runs: the embedded one is single-writer). */
async function withDb<T>(fn: (app: App) => Promise<T>): Promise<T> {
  const app = await createApp(loadConfig({ ...db.env, MONOSCOPE_DATA_DIR: dir } as NodeJS.ProcessEnv), { log: silentLogger });
  try {
    return await fn(app);
  } finally {
    await app.close();
  }
}

const labelled = (app: App) =>
  app.db.prisma.$queryRaw<{ idx: number; n: number }[]>`
    SELECT feature_idx AS idx, count(*)::int AS n FROM explanation WHERE sae_id = ${SAE} AND method = 'llm-explain/v1' GROUP BY feature_idx`;

function explainRequestsByWord(from = 0): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of fake.requests.slice(from)) {
    if (r.task !== "explain" || r.status !== 200) continue;
    const user = String(r.body.messages.find((x: { role: string }) => x.role === "user")?.content ?? "");
    const w = /<<(\w+)>>/.exec(user)?.[1] ?? "?";
    m.set(w, (m.get(w) ?? 0) + 1);
  }
  return m;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "monoscope-autointerp-"));
  db = await createTestDatabase();
  fake = await startFakeOpenAI();
  words = WORDS.slice(0, 12);
  await withDb(async (app) => {
    await seedWordSae(app, { saeId: SAE, words });
  });
});
afterAll(async () => {
  await fake?.close();
  await db?.drop();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  fake.setFaults(null);
  fake.onResponse = null;
});

describe("monoscope explain", () => {
  it("is killed mid-run and resumes without paying twice for finished features", async () => {
    fake.setFaults(() => ({ kind: "delay", ms: 150 }));
    let answered = 0;
    const killed = await cli(["explain", "--sae", SAE, "--indices", "0-7"], (kill) => {
      fake.onResponse = (r) => {
        if (r.task === "explain" && ++answered === 4) kill();
      };
    });
    expect(killed.signal).toBe("SIGKILL");
    const before = await withDb(async (app) => {
      const jobs = await app.services.jobs.list({ saeId: SAE }, 10);
      expect(jobs).toHaveLength(1);
      expect(jobs[0].status).toBe("RUNNING"); // what a killed runner leaves behind
      return (await labelled(app)).map((r) => r.idx);
    });
    expect(before.length).toBeGreaterThan(0);
    expect(before.length).toBeLessThan(8);

    fake.setFaults(null);
    const mark = fake.requests.length;
    const resumed = await cli(["explain", "--sae", SAE, "--indices", "0-7"]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/resuming job job_\S+ left unfinished/);
    expect(resumed.stdout).toMatch(/SUCCEEDED: 8 labelled, 0 failed, of 8/);
    const after = explainRequestsByWord(mark);
    for (const i of before) expect(after.has(words[i]), `${words[i]} was paid for again`).toBe(false);
    await withDb(async (app) => {
      const rows = await labelled(app);
      expect(rows.map((r) => r.idx).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      expect(rows.every((r) => r.n === 1)).toBe(true);
    });
  });

  it("labels the rest through a fault mix, records unparseable answers as failures, and prints the cost", async () => {
    const mix = faultMix();
    fake.setFaults((req) => (/<<(lantern)>>/.test(req.text) ? { kind: "unparseable" } : mix(req)));
    const r = await cli(["explain", "--sae", SAE]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/SUCCEEDED: 3 labelled, 1 failed, of 4/);
    expect(r.stdout).toMatch(/tokens: \d+ input \+ \d+ output; estimated cost \$0\.\d+/);
    expect(r.stderr).not.toContain("0123456789abcdefghijklmnop");
    const show = await cli(["jobs", "show", /job (job_\S+)/.exec(r.stdout)![1]]);
    expect(show.stdout).toMatch(/feature 10: no \[EXPLANATION\] line/);
    expect(show.stdout).toMatch(/raw answer: "I am not sure/);
    await withDb(async (app) => {
      const rows = await labelled(app);
      expect(rows).toHaveLength(11);
      expect(rows.every((x) => x.n === 1)).toBe(true);
    });
  });

  it("stops at --max-cost with a clear note", async () => {
    await withDb(async (app) => {
      await app.db.prisma.$executeRaw`DELETE FROM explanation WHERE sae_id = ${SAE}`;
    });
    const r = await cli(["explain", "--sae", SAE, "--new", "--max-cost", "0.0008"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/CANCELLED: \d+ labelled/);
    expect(r.stdout).toMatch(/note: stopped at the budget of \$0\.0008/);
    const spent = Number(/estimated cost \$([\d.]+)/.exec(r.stdout)![1]);
    expect(spent).toBeGreaterThan(0);
    expect(spent).toBeLessThanOrEqual(0.0008);
  });
});
