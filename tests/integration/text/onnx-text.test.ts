// Text -> features through a local ONNX model on both backends: a tiny GPT-2 (random weights,
// optimum's tensor names) in a directory named by MONOSCOPE_MODEL_DIR_TINY_GPT2, two random
// SAELens checkpoints whose cfg names that model and a hook each, and GraphQL's activateText,
// Feature.activationsOnText and searchByText against a float64 reference: the forward pass of
// tests/helpers/tiny-gpt2-reference.ts and the SAE's ReLU((x - b_dec) W_enc + b_enc), neither
// importing src/. A broken model directory is a BAD_USER_INPUT that names it and the missing file.
import { mkdtempSync, rmSync, unlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRequire } from "node:module";
import type * as Ort from "onnxruntime-node";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { executeQuery } from "../../../src/graphql/execute.ts";
import { importSaelens } from "../../../src/ingest/saelens/import-saelens.ts";
import { openTestApp, type TestApp } from "../../helpers/backend.ts";
import { weightValue, writeCheckpoint } from "../../helpers/saelens-fixture.ts";
import { type TinyGpt2, writeTinyGpt2Dir } from "../../helpers/tiny-gpt2.ts";
import { referenceForward } from "../../helpers/tiny-gpt2-reference.ts";

const D = 24;
const N = 64;
const SAES = [
  { id: "tiny-gpt2/1-res-post", hook: "blocks.1.hook_resid_post", seed: 3 },
  { id: "tiny-gpt2/0-res-pre", hook: "blocks.0.hook_resid_pre", seed: 5 },
] as const;
const TEXT = "the cat sat on the mat. the cat";
const TOKENS = ["<|endoftext|>", "the", " cat", " sat", " on", " the", " mat", ".", " the", " cat"];

let t: TestApp;
let tmp: string;
let model: TinyGpt2;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), "onnx-text-"));
  model = writeTinyGpt2Dir(join(tmp, "model"), { nLayer: 2, dModel: D, nHead: 4 });
  const broken = join(tmp, "broken");
  writeTinyGpt2Dir(broken);
  unlinkSync(join(broken, "config.json"));
  t = await openTestApp({ MONOSCOPE_MODEL_DIR_TINY_GPT2: join(tmp, "model"), MONOSCOPE_MODEL_DIR_BROKEN_GPT2: broken });
  t.app.services.ingest.steps = null;
  for (const s of SAES) {
    const dir = join(tmp, s.id.replace("/", "_"));
    await writeCheckpoint(dir, { dIn: D, dSae: N, architecture: "standard", seed: s.seed, cfg: { metadata: { model_name: "tiny-gpt2", hook_name: s.hook } } });
    await importSaelens(t.app.services.ingest, { dir, saeId: s.id });
  }
  const dir = join(tmp, "broken-sae");
  await writeCheckpoint(dir, { dIn: D, dSae: 8, architecture: "standard", cfg: { metadata: { model_name: "broken-gpt2", hook_name: "blocks.0.hook_resid_pre" } } });
  await importSaelens(t.app.services.ingest, { dir, saeId: "broken-gpt2/0" });
}, 600_000);
afterAll(async () => {
  await t?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const q = (query: string, variables?: Record<string, unknown>) => executeQuery(t.app, query, variables);
const data = (r: { data?: unknown; errors?: readonly unknown[] }) => {
  expect(r.errors).toBeUndefined();
  return r.data as any;
};

/** Per token, every feature's float64 activation: the reference hidden state through the checkpoint's weights. */
function referenceActs(sae: (typeof SAES)[number], text: string): number[][] {
  expect(text).toBe(TEXT);
  const ids = TOKENS.map((tok, i) => (i === 0 ? 0 : model.vocab.indexOf(tok.replace(/^ /, "Ġ"))));
  const states = referenceForward(model, ids);
  const layer = Number(sae.hook.split(".")[1]);
  const hidden = sae.hook.endsWith("resid_pre") ? states.residPre[layer]! : states.residPost[layer]!;
  // writeCheckpoint's tensors: W_enc [d_in, d_sae] from weightValue, b_enc = -0.01 (i % 7), b_dec = 0.001 i.
  const f32 = Math.fround;
  return hidden.map((x) =>
    Array.from({ length: N }, (_, f) => {
      let pre = f32(-0.01 * (f % 7));
      for (let j = 0; j < D; j++) pre += (x[j]! - f32(0.001 * j)) * f32(weightValue(sae.seed, "W_enc", j * N + f));
      return Math.max(0, pre);
    }),
  );
}

const topK = (acts: number[], k: number) =>
  acts
    .map((activation, index) => ({ index, activation }))
    .filter((a) => a.activation > 0)
    .sort((a, b) => b.activation - a.activation)
    .slice(0, k);

describe("text through a local ONNX GPT-2", () => {
  it("activateText gives every token the reference's strongest features at the SAE's hook", async () => {
    for (const sae of SAES) {
      const want = referenceActs(sae, TEXT);
      const got = data(
        await q(`query($s: ID!, $t: String!) { activateText(saeId: $s, text: $t, k: 6) { tokens { token features { activation feature { index } } } } }`, { s: sae.id, t: TEXT }),
      ).activateText.tokens;
      expect(got.map((g: any) => g.token)).toEqual(TOKENS);
      got.forEach((g: any, i: number) => {
        const w = topK(want[i]!, 6);
        expect(w.length).toBeGreaterThan(0);
        expect(g.features.map((f: any) => f.feature.index), `${sae.id} token ${i}`).toEqual(w.map((f) => f.index));
        g.features.forEach((f: any, j: number) => expect(Math.abs(f.activation - w[j]!.activation)).toBeLessThan(1e-3));
      });
    }
  });

  it("Feature.activationsOnText and searchByText agree with the reference over both hooks in one request", async () => {
    const [post, pre] = SAES;
    const wantPost = referenceActs(post, TEXT);
    const feature = topK(wantPost[3]!, 1)[0]!.index;
    const on = data(await q(`query($t: String!) { feature(saeId: "${post.id}", index: ${feature}) { activationsOnText(text: $t) } }`, { t: TEXT })).feature.activationsOnText;
    expect(on).toHaveLength(TOKENS.length);
    // 0 where the feature is not among the token's top k (k = the SAE's width here would keep all).
    on.forEach((v: number, i: number) => {
      if (v !== 0) expect(Math.abs(v - wantPost[i]![feature]!)).toBeLessThan(1e-3);
    });
    expect(Math.abs(on[3] - wantPost[3]![feature]!)).toBeLessThan(1e-3);

    const all: { sae: string; index: number; max: number; at: number }[] = [];
    for (const sae of [post, pre]) {
      const acts = referenceActs(sae, TEXT);
      for (let f = 0; f < N; f++) {
        let at = 0;
        acts.forEach((row, i) => (row[f]! > acts[at]![f]! ? (at = i) : 0));
        if (acts[at]![f]! > 0) all.push({ sae: sae.id, index: f, max: acts[at]![f]!, at });
      }
    }
    all.sort((a, b) => b.max - a.max);
    const hits = data(
      await q(`query($t: String!) { searchByText(text: $t, saeIds: ["${post.id}", "${pre.id}"], k: 8) { maxActivation tokenIndex feature { index sae { id } } } }`, { t: TEXT }),
    ).searchByText;
    expect(hits).toHaveLength(8);
    hits.forEach((h: any, i: number) => {
      expect({ sae: h.feature.sae.id, index: h.feature.index, at: h.tokenIndex }).toEqual({ sae: all[i]!.sae, index: all[i]!.index, at: all[i]!.at });
      expect(Math.abs(h.maxActivation - all[i]!.max)).toBeLessThan(1e-3);
    });
  });

  it("searchByText over two hooks of one model runs the model once and answers the union of the per-SAE searches", async () => {
    // The real session, counted through a spy that calls through (the model is not replaced).
    const ort = createRequire(import.meta.url)("onnxruntime-node") as typeof Ort;
    // The matrix kernel may run its own ONNX sessions (GEMM); the model's are those with logits.
    const runs = vi.spyOn((ort.InferenceSession as unknown as { prototype: Ort.InferenceSession }).prototype, "run");
    const passes = () => runs.mock.contexts.filter((s: unknown) => (s as Ort.InferenceSession).outputNames.includes("logits")).length;
    try {
      const ids = SAES.map((s) => s.id);
      for (const k of [3, 8, 2 * N]) {
        runs.mockClear();
        const both = await t.app.services.text.searchByText(TEXT, ids, k);
        expect(passes(), "one forward pass for both hooks").toBe(1);
        runs.mockClear();
        const each = [];
        for (const id of ids) each.push(...(await t.app.services.text.searchByText(TEXT, [id], k)));
        expect(passes()).toBe(ids.length);
        each.sort((a, b) => b.maxActivation - a.maxActivation || (a.saeId < b.saeId ? -1 : a.saeId > b.saeId ? 1 : 0) || a.index - b.index);
        expect(both).toHaveLength(Math.min(k, each.length));
        if (k === 2 * N) expect(new Set(both.map((h) => h.saeId)).size, "both SAEs answer").toBe(2);
        expect(both).toEqual(each.slice(0, k));
      }
    } finally {
      runs.mockRestore();
    }
  });

  it("a broken model directory is BAD_USER_INPUT naming the directory, the env var and the missing file", async () => {
    const r = await q(`{ activateText(saeId: "broken-gpt2/0", text: "the cat") { tokens { token } } }`);
    expect(r.errors).toHaveLength(1);
    const e = r.errors![0] as { message: string; extensions?: { code?: string } };
    expect(e.extensions?.code).toBe("BAD_USER_INPUT");
    expect(e.message).toBe(`ONNX model directory ${join(tmp, "broken")} (MONOSCOPE_MODEL_DIR_BROKEN_GPT2): missing config.json`);
  });
});
