// The demo build's pure parts: WordNet parsing and tokens, top-k selection, TopK SAE
// training on planted data, activation examples, and SAELens output read back by the importer.
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { featureExamples } from "../../scripts/demo-dataset/contexts.ts";
import { roundToHalf } from "../../scripts/demo-dataset/float16.ts";
import { jsGemm, jsTopKDot, type LinearAlgebra } from "../../scripts/demo-dataset/linalg.ts";
import { createRng } from "../../scripts/demo-dataset/prng.ts";
import { topKRows } from "../../scripts/demo-dataset/topk-select.ts";
import { encode, evaluate, type SparseCodes, type TopKSae } from "../../scripts/demo-dataset/topk-sae.ts";
import { trainSae } from "../../scripts/demo-dataset/train-sae.ts";
import { loadWordnetTexts, splitGloss, tokenise } from "../../scripts/demo-dataset/wordnet.ts";
import { writeSaeLensDir } from "../../scripts/demo-dataset/writers.ts";
import { SafetensorsFile } from "../../src/ingest/saelens/safetensors.ts";

const la: LinearAlgebra = { name: "javascript", gemm: jsGemm, topKDot: jsTopKDot, close: async () => {} };
const tmp = mkdtempSync(join(tmpdir(), "monoscope-demo-unit-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("WordNet texts", () => {
  it("splits a gloss into its definition and quoted examples", () => {
    expect(splitGloss('have firsthand knowledge of states; "I know the feeling!"; "have you ever known hunger?"')).toEqual({
      definition: "have firsthand knowledge of states",
      examples: ["I know the feeling!", "have you ever known hunger?"],
    });
    expect(splitGloss("an entity that has physical existence")).toEqual({ definition: "an entity that has physical existence", examples: [] });
  });

  it("reads data files, skipping the licence header, with lemmas before the gloss", () => {
    const dict = join(tmp, "dict");
    mkdirSync(dict, { recursive: true });
    const noun = [
      "  1 This software and database is being provided to you, the LICENSEE, by  ",
      "00978041 04 n 02 blitz 0 blitzkrieg 0 001 @ 00977538 n 0000 | a swift and violent military offensive  ",
      '00598456 31 n 01 taste(a) 5 002 @ 00598039 v 0000 | experience briefly; "The ex-slave tasted freedom"  ',
    ].join("\n");
    writeFileSync(join(dict, "data.noun"), noun + "\n");
    for (const f of ["data.verb", "data.adj", "data.adv"]) writeFileSync(join(dict, f), "");
    expect(loadWordnetTexts(dict)).toEqual([
      { source: "wordnet:00978041-n", text: "blitz, blitzkrieg: a swift and violent military offensive" },
      { source: "wordnet:00598456-n", text: "taste: experience briefly" },
      { source: "wordnet:00598456-n:ex1", text: "The ex-slave tasted freedom" },
    ]);
  });

  it("tokens keep their whitespace (they join back to the text) and look words up lower-cased", () => {
    const words = new Map([["the", 0], ["cat", 1]]);
    const text = "The cat's 9 lives (roughly).";
    const t = tokenise(text, words);
    expect(t.tokens.join("")).toBe(text);
    expect(t.tokens.slice(0, 3)).toEqual(["The", " cat", "'"]);
    expect(Array.from(t.wordIds.slice(0, 3))).toEqual([0, 1, -1]);
  });
});

describe("top-k selection", () => {
  it("keeps the k largest positive values per row, best first", () => {
    const pre = Float32Array.from([0.1, -2, 3, 0.5, 0, -1, -1, 0.2]);
    const idx = new Int32Array(6), val = new Float32Array(6);
    topKRows(pre, 2, 4, 3, idx, val);
    expect(Array.from(idx)).toEqual([2, 3, 0, 3, -1, -1]);
    expect(Array.from(val)).toEqual([3, 0.5, Math.fround(0.1), Math.fround(0.2), 0, 0]);
  });
});

/** Unit vectors that are sparse non-negative mixes of a planted dictionary. */
function plantedData(n: number, d: number, atoms: number, perRow: number, seed: number): Float32Array {
  const rng = createRng(seed);
  const dict = Float32Array.from({ length: atoms * d }, () => rng.gaussian());
  const x = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    for (let s = 0; s < perRow; s++) {
      const a = rng.int(atoms), w = 0.5 + rng.next();
      for (let j = 0; j < d; j++) x[i * d + j] += w * dict[a * d + j];
    }
    let ss = 0;
    for (let j = 0; j < d; j++) ss += x[i * d + j] ** 2;
    for (let j = 0; j < d; j++) x[i * d + j] /= Math.sqrt(ss);
  }
  return x;
}

describe("TopK SAE training", () => {
  const d = 16;
  const x = plantedData(2000, d, 24, 2, 7);
  const train = (seed: number) =>
    trainSae(x, d, {
      dSae: 24, k: 2, epochs: 30, batchSize: 128, lr: 5e-3, kAux: 8, auxAlpha: 1 / 32, deadAfter: 1000, la, rng: createRng(seed), log: () => {},
    });
  let sae: TopKSae;
  let codes: SparseCodes;

  it("recovers planted sparse structure with unit-norm decoder rows and no dead latents", async () => {
    sae = await train(1);
    codes = await encode(sae, x, la);
    const { fvu, dead } = evaluate(sae, x, codes);
    expect(fvu).toBeLessThan(0.1);
    expect(dead).toBeLessThan(0.1);
    for (let j = 0; j < sae.dSae; j++) {
      let ss = 0;
      for (let i = 0; i < d; i++) ss += sae.dec[j * d + i] ** 2;
      expect(Math.sqrt(ss)).toBeCloseTo(1, 5);
    }
  });

  it("is deterministic for a seed", async () => {
    const again = await train(1);
    expect(Array.from(again.dec)).toEqual(Array.from(sae.dec));
  });

  it("writes a SAELens directory the importer reads back (W_enc transposed, F16)", async () => {
    for (const p of [sae.encT, sae.dec, sae.bEnc, sae.bDec]) roundToHalf(p);
    const dir = join(tmp, "sae");
    writeSaeLensDir(dir, sae, { metadata: { model_name: "m", hook_name: "h" } });
    const cfg = JSON.parse(readFileSync(join(dir, "cfg.json"), "utf8"));
    expect(cfg).toMatchObject({ architecture: "topk", k: 2, d_in: d, d_sae: 24, dtype: "float16", metadata: { model_name: "m" } });
    const f = await SafetensorsFile.open(join(dir, "sae_weights.safetensors"));
    try {
      const wEnc = f.require("W_enc", [d, 24], "cfg");
      const wDec = f.require("W_dec", [24, d], "cfg");
      expect(wEnc.dtype).toBe("F16");
      expect(Array.from(await f.readColumns(wEnc, 5, 1))).toEqual(Array.from(sae.encT.subarray(5 * d, 6 * d)));
      expect(Array.from(await f.readRows(wDec, 0, 24))).toEqual(Array.from(sae.dec));
      expect(Array.from(await f.readRows(f.require("b_enc", [24], "cfg"), 0, 24))).toEqual(Array.from(sae.bEnc));
    } finally {
      await f.close();
    }
  });
});

describe("activation examples", () => {
  // words 0..3; feature 0 fires on word 0 (0.9) and word 1 (0.4); feature 1 on word 2 (0.5)
  const codes: SparseCodes = { k: 1, idx: Int32Array.from([0, 0, 1, -1]), val: Float32Array.from([0.9, 0.4, 0.5, 0]) };
  const words = new Map([["alpha", 0], ["beta", 1], ["gamma", 2], ["delta", 3]]);
  const raw = ["alpha beta", "alpha again", "alpha three", "beta gamma", "delta", "beta", "gamma gamma"];
  const texts = raw.map((t) => tokenise(t, words));
  const sources = raw.map((_, i) => `s${i}`);

  it("keeps top contexts by max activation (at most perWord per max word), quantile samples, density", () => {
    const out = [...featureExamples(texts, sources, codes, 3, { top: 3, perWord: 2, bins: 2, perBin: 1, window: 32, rng: createRng(1) })];
    expect(out.map((f) => f.index)).toEqual([0, 1, 2]);
    const [f0, f1, f2] = out;
    const tokens = 2 + 2 + 2 + 2 + 1 + 1 + 2;
    // alpha in s0, s1, s2 and beta in s0, s3, s5
    expect(f0.density).toBeCloseTo(6 / tokens);
    expect(f0.maxActivation).toBe(0.9);
    expect(f1.density).toBeCloseTo(3 / tokens);
    // two "alpha" texts, then the per-word cap lets the strongest "beta" text in
    expect(f0.examples.filter((e) => e.kind === "top").map((e) => e.source)).toEqual(["s0", "s1", "s5"]);
    expect(f0.examples[0]).toMatchObject({ tokens: ["alpha", " beta"], values: [0.9, 0.4], binMin: null });
    for (const e of f0.examples.filter((e) => e.kind === "quantile")) {
      expect(e.binMin!).toBeLessThanOrEqual(e.binMax!);
      expect(e.values).toHaveLength(e.tokens.length);
    }
    expect(f1.examples.map((e) => e.source)).toEqual(["s3", "s6"]); // a tie: equal length, corpus order
    expect(f2).toMatchObject({ density: 0, maxActivation: 0, examples: [] });
  });
});
