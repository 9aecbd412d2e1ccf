// The glove-wordnet source against an independent float64 reference (tests/helpers/glove-reference.ts,
// which reads the shipped files itself and imports nothing from src/): the same tokens, the same
// preprocessed vectors, and through the encoder's code the same top features and values; and both
// agree with the activations shipped in data/demo/saes/<d>/activations.jsonl.gz.
import { beforeAll, describe, expect, it } from "vitest";
import { encodeInMemory, saeInput } from "../../../src/modules/encode/encoder-math.ts";
import { GloveSource } from "../../../src/modules/text/glove-source.ts";
import {
  referenceActivateText,
  referenceSae,
  referenceWords,
  type ReferenceSae,
  type ReferenceWords,
  shippedExamples,
} from "../../helpers/glove-reference.ts";

const HOOK = { modelName: "glove-6b-100d", hookName: "word_vectors", dIn: 100 };
const TEXTS = [
  "The cat sat on the mat.",
  "Roosevelt and Truman met in 1945; Qatar's monetary unit, the riyal!",
  "a swift and violent military offensive — blitzkrieg",
  "Xyzzyq frobnicates 42 qwertyuiop", // out-of-vocabulary words, a number
  "",
];

let words: ReferenceWords;
const saes = new Map<number, ReferenceSae>();
const source = new GloveSource();

beforeAll(() => {
  words = referenceWords();
  for (const d of [512, 8192]) saes.set(d, referenceSae(d));
});

/** The source's vectors through the encoder's own code (encodeInMemory), as activateText runs them. */
async function activateThroughEncoder(sae: ReferenceSae, text: string) {
  const a = await source.activate(text, HOOK);
  const weights = new Float32Array(sae.dSae * sae.dIn);
  for (let i = 0; i < sae.dIn; i++) for (let f = 0; f < sae.dSae; f++) weights[f * sae.dIn + i] = sae.wEnc[i * sae.dSae + f]!;
  const matrix = { dIn: sae.dIn, indices: Int32Array.from(sae.bEnc.keys()), weights, bEnc: Float32Array.from(sae.bEnc), threshold: new Float32Array(sae.dSae).fill(Number.NaN) };
  const cfg = { bDec: [...sae.bDec], applyBDecToInput: true, config: { normalize_activations: "none" } };
  return a.tokens.map((token, t) => {
    const x = saeInput([...a.vectors.subarray(t * a.dIn, (t + 1) * a.dIn)], cfg);
    const zero = x.every((v, i) => v === -cfg.bDec[i]!);
    return { token, features: zero ? [] : encodeInMemory(matrix, x, sae.k, false) };
  });
}

describe("glove-wordnet source", () => {
  it("tokenizes as the demo build did and gives the reference's centred unit vectors", async () => {
    for (const text of TEXTS) {
      const a = await source.activate(text, HOOK);
      const ref = referenceActivateText(words, saes.get(512)!, text);
      expect(a.tokens).toEqual(ref.map((r) => r.token));
      expect(a.dIn).toBe(100);
      expect(a.vectors.length).toBe(a.tokens.length * 100);
      a.tokens.forEach((tok, t) => {
        const word = /[A-Za-z]+/.exec(tok)?.[0]?.toLowerCase();
        const row = word === undefined ? undefined : words.index.get(word);
        const got = a.vectors.subarray(t * 100, (t + 1) * 100);
        if (row === undefined) expect([...got].every((v) => v === 0)).toBe(true);
        else for (let j = 0; j < 100; j++) expect(Math.abs(got[j]! - words.rows[row]![j]!)).toBeLessThan(1e-6);
      });
    }
    const oov = await source.activate("Xyzzyq 42", HOOK);
    expect(oov.tokens).toEqual(["Xyzzyq", " 42"]);
    expect([...oov.vectors].every((v) => v === 0)).toBe(true);
  });

  it("gives every token the reference's top features and values on the 512 and 8192 SAEs", async () => {
    for (const [d, sae] of saes) {
      for (const text of TEXTS) {
        const got = await activateThroughEncoder(sae, text);
        const ref = referenceActivateText(words, sae, text);
        expect(got.map((g) => g.token)).toEqual(ref.map((r) => r.token));
        got.forEach((g, t) => {
          expect(g.features.map((f) => f.index), `${d}: "${g.token}" in ${JSON.stringify(text)}`).toEqual(ref[t]!.features.map((f) => f.index));
          g.features.forEach((f, i) => expect(Math.abs(f.activation - ref[t]!.features[i]!.activation)).toBeLessThan(1e-4));
        });
      }
    }
  });

  it("agrees with the shipped activations.jsonl.gz on the same texts", async () => {
    const sae = saes.get(8192)!;
    const examples = shippedExamples(8192, 40_000).filter((_, i) => i % 400 === 0);
    expect(examples.length).toBe(100);
    let compared = 0;
    for (const ex of examples) {
      const text = ex.tokens.join("");
      const got = await activateThroughEncoder(sae, text);
      // The shipped examples are windows of a longer context; a window never starts mid-token.
      expect(got.map((g) => g.token.trimStart())).toEqual(ex.tokens.map((t) => t.trimStart()));
      const ref = referenceActivateText(words, sae, text);
      ex.values.forEach((v, t) => {
        const mine = got[t]!.features.find((f) => f.index === ex.index)?.activation ?? 0;
        const theirs = ref[t]!.features.find((f) => f.index === ex.index)?.activation ?? 0;
        // Shipped values are rounded to 3 decimals and were computed from the float32 vectors
        // that vectors.f16.bin rounds to float16.
        expect(Math.abs(mine - v), `feature ${ex.index} on "${ex.tokens[t]}" (${ex.source})`).toBeLessThan(0.005);
        expect(Math.abs(theirs - v)).toBeLessThan(0.005);
        compared++;
      });
    }
    expect(compared).toBeGreaterThan(500);
  });

  it("binds to the demo SAEs by model and hook name and refuses other hooks and widths", async () => {
    expect(source.supports(HOOK)).toBe(true);
    expect(source.supports({ ...HOOK, modelName: "gpt2" })).toBe(false);
    expect(source.supports({ ...HOOK, hookName: "blocks.0.hook_resid_pre" })).toBe(false);
    await expect(source.activate("cat", { ...HOOK, dIn: 768 })).rejects.toMatchObject({ code: "BAD_USER_INPUT", message: expect.stringMatching(/d_in 768/) });
  });

  it("refuses text over the character and token limits", async () => {
    const small = new GloveSource({ limits: { maxChars: 20, maxTokens: 3 } });
    await expect(small.activate("x".repeat(21), HOOK)).rejects.toMatchObject({ code: "BAD_USER_INPUT", message: expect.stringMatching(/21 characters; at most 20/) });
    await expect(small.activate("a b c d", HOOK)).rejects.toMatchObject({ code: "BAD_USER_INPUT", message: expect.stringMatching(/4 tokens; at most 3/) });
    expect((await small.activate("a b c", HOOK)).tokens).toEqual(["a", " b", " c"]);
  });
});
