import { describe, expect, it } from "vitest";
import { SifEmbedder, SifModel } from "../../../src/modules/search/embedder-glove.ts";
import { decodeFloat16 } from "../../../src/shared/float16.ts";
import { correctSpelling, editDistance, loadWordTable, lookupWord, tokenizeWords } from "../../../src/modules/search/word-vectors.ts";
import { MINI_WORD_VECTORS } from "../../helpers/search-fixture.ts";

const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i], 0);

describe("word table", () => {
  it("decodes float16", () => {
    // 1.0, -2.0, 0.5, 65504 (max half), smallest subnormal
    const bytes = new Uint8Array([0x00, 0x3c, 0x00, 0xc0, 0x00, 0x38, 0xff, 0x7b, 0x01, 0x00]);
    expect(Array.from(decodeFloat16(bytes))).toEqual([1, -2, 0.5, 65504, 2 ** -24]);
  });

  it("loads the fixture table in frequency order and finds inflected words", () => {
    const t = loadWordTable(MINI_WORD_VECTORS);
    expect(t.dim).toBe(100);
    expect(t.words[0]).toBe("the");
    expect(t.vectors.length).toBe(t.words.length * 100);
    expect(lookupWord(t, "volcanoes")).toBe(t.index.get("volcano"));
    expect(lookupWord(t, "cries")).toBe(t.index.get("cry"));
    expect(lookupWord(t, "laughing")).toBe(t.index.get("laugh"));
    expect(lookupWord(t, "qqqq")).toBeUndefined();
    expect(tokenizeWords("U.S. Presidents, 1990's")).toEqual(["u", "s", "presidents", "s"]);
  });

  it("names the missing table and how to build it", () => {
    expect(() => loadWordTable("/nonexistent")).toThrow(/npm run build:demo/);
  });
});

describe("SIF embedder", () => {
  const model = new SifModel(loadWordTable(MINI_WORD_VECTORS));
  const component = model.fitComponent();
  const e = new SifEmbedder("glove-wordnet/v1", model, model.params(component));

  it("weighs function words far below content words", () => {
    const the = model.table.index.get("the")!;
    const volcano = model.table.index.get("volcano")!;
    expect(model.weights[the]).toBeLessThan(0.05);
    expect(model.weights[volcano]).toBeGreaterThan(0.5);
  });

  it("gives unit vectors orthogonal to the common component", () => {
    const v = e.embedOne("the president signed the bill")!;
    expect(Math.hypot(...v)).toBeCloseTo(1, 5);
    expect(Math.abs(dot(v, Float32Array.from(component)))).toBeLessThan(1e-5);
  });

  it("puts related texts closer than unrelated ones", () => {
    const a = e.embedOne("laughter and amusement")!;
    const b = e.embedOne("giggling comedy")!;
    const c = e.embedOne("political parties")!;
    expect(dot(a, b)).toBeGreaterThan(dot(a, c));
  });

  it("has nothing to say about text with no known word", () => {
    expect(e.embedOne("zzqx 1234")).toBeNull();
  });

  it("refuses stored parameters made with another word table", () => {
    expect(() => new SifEmbedder("glove-wordnet/v1", model, { ...model.params(component), tableHash: "other" })).toThrow(/word-vector table changed/);
  });
});

describe("spelling", () => {
  const t = loadWordTable(MINI_WORD_VECTORS);
  it("measures edits with neighbour swaps", () => {
    expect(editDistance("presidnets", "presidents", 2)).toBe(1);
    expect(editDistance("volcanoe", "volcano", 2)).toBe(1);
    expect(editDistance("abc", "xyz", 1)).toBe(2);
  });
  it("corrects a typed word to the most frequent word one edit away, and leaves short words alone", () => {
    expect(t.words[correctSpelling(t, "volcanoe")!]).toBe("volcano");
    expect(t.words[lookupWord(t, "presidnets")!]).toMatch(/^president/);
    expect(correctSpelling(t, "teh")).toBeUndefined();
  });
});
