// The onnx activation source on a tiny GPT-2 with random weights, exported under optimum's
// GPT-2 names: hidden states at the hooks equal a float64 forward pass written from the
// architecture (tests/helpers/tiny-gpt2-reference.ts), tokens come from tokenizer.json, and
// every misconfiguration is an error that names the directory, the file or the tensor.
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOnnxSource, type OnnxActivationSource } from "../../../src/modules/text/onnx-source.ts";
import { modelDirEnvVar } from "../../../src/modules/text/onnx-model-dir.ts";
import { type TinyGpt2, writeTinyGpt2Dir } from "../../helpers/tiny-gpt2.ts";
import { referenceForward } from "../../helpers/tiny-gpt2-reference.ts";

const MODEL = "tiny-gpt2";
const TEXT = "the cat sat on the mat. the cat";
// What the BPE in tiny-gpt2.ts makes of TEXT, after the BOS token.
const TOKENS = ["<|endoftext|>", "the", " cat", " sat", " on", " the", " mat", ".", " the", " cat"];

let root: string;
let dir: string;
let model: TinyGpt2;
let source: OnnxActivationSource;
const hook = (hookName: string, dIn = 24) => ({ modelName: MODEL, hookName, dIn });

function maxDiff(vectors: Float32Array, ref: number[][]): number {
  let worst = 0;
  ref.forEach((row, i) => row.forEach((v, j) => (worst = Math.max(worst, Math.abs(vectors[i * row.length + j]! - v)))));
  return worst;
}

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "onnx-source-"));
  dir = join(root, "tiny");
  model = writeTinyGpt2Dir(dir, { nLayer: 2, dModel: 24, nHead: 4 });
  source = createOnnxSource({ modelId: MODEL, dir, threads: 1 });
});

afterAll(async () => {
  await source?.close();
  rmSync(root, { recursive: true, force: true });
});

describe("onnx source on a tiny GPT-2", () => {
  it("returns the residual stream at two hooks equal to a float64 reference, naming optimum's tensors", async () => {
    const pre = await source.activate(TEXT, hook("blocks.0.hook_resid_pre"));
    const post = await source.activate(TEXT, hook("blocks.1.hook_resid_post"));
    expect(pre.tokens).toEqual(TOKENS);
    expect(pre.tensor).toBe("/transformer/Add_output_0");
    expect(post.tensor).toBe("/transformer/h.1/Add_1_output_0");
    const ids = [0, ...TOKENS.slice(1).map((t) => model.vocab.indexOf(t.replace(/^ /, "Ġ")))];
    expect(ids.every((i) => i >= 0)).toBe(true);
    const ref = referenceForward(model, ids);
    expect(pre.vectors.length).toBe(TOKENS.length * 24);
    expect(maxDiff(pre.vectors, ref.residPre[0]!)).toBeLessThan(1e-4);
    expect(maxDiff(post.vectors, ref.residPost[1]!)).toBeLessThan(1e-4);
    // The layers differ: a wrong tensor would not pass by accident.
    expect(maxDiff(post.vectors, ref.residPost[0]!)).toBeGreaterThan(1e-2);
  });

  it("maps resid_pre/mid/post, attn_out and mlp_out of every block", async () => {
    const ids = [0, ...TOKENS.slice(1).map((t) => model.vocab.indexOf(t.replace(/^ /, "Ġ")))];
    const ref = referenceForward(model, ids);
    const cases = [
      ["blocks.1.hook_resid_pre", "/transformer/h.0/Add_1_output_0", ref.residPre[1]!],
      ["blocks.0.hook_resid_mid", "/transformer/h.0/Add_output_0", ref.residMid[0]!],
      ["blocks.0.hook_resid_post", "/transformer/h.0/Add_1_output_0", ref.residPost[0]!],
      ["blocks.1.hook_attn_out", "/transformer/h.1/attn/c_proj/Reshape_1_output_0", ref.attnOut[1]!],
      ["blocks.1.hook_mlp_out", "/transformer/h.1/mlp/c_proj/Reshape_1_output_0", ref.mlpOut[1]!],
    ] as const;
    const hooks = cases.map(([h]) => hook(h));
    const [perHook] = await source.activateHooks([TEXT], hooks);
    cases.forEach(([, tensor, expected], i) => {
      expect(perHook![i]!.tensor).toBe(tensor);
      expect(maxDiff(perHook![i]!.vectors, expected)).toBeLessThan(1e-4);
    });
  });

  it("batches texts of different lengths with the same values as one at a time", async () => {
    const texts = ["the cat", "on the mat, the cat sat", "sat", TEXT];
    const h = hook("blocks.1.hook_resid_post");
    const batched = await source.activateMany(texts, h);
    for (const [i, text] of texts.entries()) {
      const single = await source.activate(text, h);
      expect(batched[i]!.tokens).toEqual(single.tokens);
      const diff = Math.max(...Array.from(single.vectors, (v, j) => Math.abs(v - batched[i]!.vectors[j]!)));
      expect(diff).toBeLessThan(1e-5);
    }
  });

  it("gives empty text only the BOS token, or no tokens at all without it", async () => {
    const h = hook("blocks.0.hook_resid_pre");
    expect((await source.activate("", h)).tokens).toEqual(["<|endoftext|>"]);
    const noBos = createOnnxSource({ modelId: MODEL, dir, prependBos: false });
    try {
      const [empty, cat] = await noBos.activateMany(["", "the cat"], h);
      expect(empty).toMatchObject({ tokens: [], dIn: 24, tensor: "/transformer/Add_output_0" });
      expect(empty!.vectors.length).toBe(0);
      expect(cat!.tokens).toEqual(["the", " cat"]);
      const ids = [model.vocab.indexOf("the"), model.vocab.indexOf("Ġcat")];
      expect(maxDiff(cat!.vectors, referenceForward(model, ids).residPre[0]!)).toBeLessThan(1e-4);
    } finally {
      await noBos.close();
    }
  });

  it("finds the embedding sum by structure when the exporter's counters shift", async () => {
    const shifted = join(root, "shifted");
    const m = writeTinyGpt2Dir(shifted, { layout: "model.onnx", shiftCounters: true });
    const s = createOnnxSource({ modelId: MODEL, dir: shifted, threads: 1 });
    try {
      const out = await s.activate("the cat", hook("blocks.0.hook_resid_pre"));
      expect(out.tensor).toBe("/transformer/Add_1_output_0");
      const ids = [0, m.vocab.indexOf("the"), m.vocab.indexOf("Ġcat")];
      expect(maxDiff(out.vectors, referenceForward(m, ids).residPre[0]!)).toBeLessThan(1e-4);
    } finally {
      await s.close();
    }
  });

  it("reads a named tensor for any hook, and says which tensors are close when the name is wrong", async () => {
    const s = createOnnxSource({ modelId: MODEL, dir, threads: 1, tensor: "/transformer/h.0/ln_2/Add_1_output_0" });
    try {
      expect(s.knowsHook("anything.at.all")).toBe(true);
      const out = await s.activate("the cat", hook("anything.at.all"));
      expect(out.tensor).toBe("/transformer/h.0/ln_2/Add_1_output_0");
      const ids = [0, model.vocab.indexOf("the"), model.vocab.indexOf("Ġcat")];
      const mid = referenceForward(model, ids).residMid[0]!;
      // ln_2's output has mean 0 per row before its affine part: check it is a LayerNorm of resid_mid.
      const blk = model.blocks[0]!;
      const ln = mid.map((x) => {
        const mean = x.reduce((a, v) => a + v, 0) / x.length;
        const sd = Math.sqrt(x.reduce((a, v) => a + (v - mean) ** 2, 0) / x.length + model.eps);
        return x.map((v, j) => ((v - mean) / sd) * blk.ln2W[j]! + blk.ln2B[j]!);
      });
      expect(maxDiff(out.vectors, ln)).toBeLessThan(1e-4);
    } finally {
      await s.close();
    }
    const bad = createOnnxSource({ modelId: MODEL, dir, threads: 1, tensor: "/transformer/h.0/Add_9_output_0" });
    await expect(bad.activate("the", hook("x"))).rejects.toThrow(/tensor "\/transformer\/h.0\/Add_9_output_0" is not in .*model.onnx; closest names: .*\/transformer\/h.0\/Add/);
  });

  it("takes hook -> tensor names from monoscope.json in the model directory", async () => {
    const custom = join(root, "custom");
    writeTinyGpt2Dir(custom);
    writeFileSync(join(custom, "monoscope.json"), JSON.stringify({ tensors: { "blocks.0.hook_mlp_in": "/transformer/h.0/ln_2/Add_1_output_0" } }));
    const s = createOnnxSource({ modelId: MODEL, dir: custom, threads: 1 });
    try {
      expect(s.knowsHook("blocks.0.hook_mlp_in")).toBe(true);
      expect((await s.activate("the", hook("blocks.0.hook_mlp_in"))).tensor).toBe("/transformer/h.0/ln_2/Add_1_output_0");
      // Hooks it does not name still map as GPT-2's.
      expect((await s.activate("the", hook("blocks.0.hook_resid_pre"))).tensor).toBe("/transformer/Add_output_0");
    } finally {
      await s.close();
    }
    writeFileSync(join(custom, "monoscope.json"), JSON.stringify({ tensors: ["x"] }));
    expect(() => createOnnxSource({ modelId: MODEL, dir: custom })).toThrow(/monoscope.json: "tensors" must be an object/);
  });

  it("refuses hooks it cannot map, widths that differ from d_in, and text over the limits", async () => {
    expect(source.supports(hook("blocks.0.hook_resid_pre"))).toBe(true);
    expect(source.supports({ ...hook("blocks.0.hook_resid_pre"), modelName: "gpt2-small" })).toBe(false);
    expect(source.knowsHook("blocks.0.attn.hook_pattern")).toBe(false);
    await expect(source.activate("the", hook("blocks.0.attn.hook_pattern"))).rejects.toThrow(/no tensor .* hook "blocks.0.attn.hook_pattern".*--tensor or in .*monoscope.json/);
    await expect(source.activate("the", hook("blocks.7.hook_resid_pre"))).rejects.toThrow(/no tensor .* hook "blocks.7.hook_resid_pre".*--tensor/);
    await expect(source.activate("the", hook("blocks.0.hook_resid_pre", 768))).rejects.toThrow(/width 24, but the SAE for blocks.0.hook_resid_pre reads d_in 768/);
    const small = createOnnxSource({ modelId: MODEL, dir, limits: { maxChars: 20, maxTokens: 4 } });
    await expect(small.activate("x".repeat(21), hook("blocks.0.hook_resid_pre"))).rejects.toMatchObject({ code: "BAD_USER_INPUT", message: expect.stringMatching(/21 characters; at most 20/) });
    await expect(small.activate("the cat sat on", hook("blocks.0.hook_resid_pre"))).rejects.toThrow(/5 tokens; at most 4/);
    // Past the model's 64 positions.
    await expect(source.activate(" cat".repeat(70), hook("blocks.0.hook_resid_pre"))).rejects.toThrow(/71 tokens; model tiny-gpt2 takes at most 64/);
  });

  it("names the directory and the missing file, never downloading anything", () => {
    const broken = join(root, "broken");
    writeTinyGpt2Dir(broken);
    unlinkSync(join(broken, "tokenizer.json"));
    expect(() => createOnnxSource({ modelId: MODEL, dir: broken, dirLabel: "MONOSCOPE_MODEL_DIR_TINY_GPT2" })).toThrow(
      `ONNX model directory ${broken} (MONOSCOPE_MODEL_DIR_TINY_GPT2): missing tokenizer.json`,
    );
    unlinkSync(join(broken, "onnx", "model.onnx"));
    expect(() => createOnnxSource({ modelId: MODEL, dir: broken })).toThrow(/missing the ONNX graph: none of onnx\/model.onnx, model.onnx/);
    expect(() => createOnnxSource({ modelId: MODEL, dir: join(root, "nowhere") })).toThrow(/nowhere: does not exist/);
  });

  it("derives the env var from the model id", () => {
    expect(modelDirEnvVar("gpt2-small")).toBe("MONOSCOPE_MODEL_DIR_GPT2_SMALL");
    expect(modelDirEnvVar("EleutherAI/pythia-70m-deduped")).toBe("MONOSCOPE_MODEL_DIR_ELEUTHERAI_PYTHIA_70M_DEDUPED");
  });
});
