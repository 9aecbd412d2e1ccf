// Byte-level BPE token strings decode to readable text, across token boundaries.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decodeByteLevelToken, decodeByteLevelTokens } from "../../../src/ingest/neuronpedia/bpe.ts";

describe("decodeByteLevelTokens", () => {
  it("decodes GPT-2 byte-level strings", () => {
    expect(decodeByteLevelTokens(["Hello", "Ġworld", "Ċ"]).text).toBe("Hello world\n");
    expect(decodeByteLevelTokens(["itâĢĻs"]).tokens).toEqual(["it’s"]);
    expect(decodeByteLevelToken("âĢĻ")).toBe("’");
    expect(decodeByteLevelToken("ĠBrigade")).toBe(" Brigade");
  });

  it("joins characters split across tokens and keeps tokens aligned with the text", () => {
    const r = decodeByteLevelTokens([" there", "âĢ", "Ļ", "s"]);
    expect(r.tokens).toEqual([" there", "", "’", "s"]);
    expect(r.text).toBe(" there’s");
  });

  it("drops a character cut off at either edge of the context window", () => {
    expect(decodeByteLevelTokens(["Ļ", "s", " ok"]).tokens).toEqual(["", "s", " ok"]);
    expect(decodeByteLevelTokens(["ok", "âĢ"]).tokens).toEqual(["ok", ""]);
  });

  it("leaves text that is not byte-level encoded alone", () => {
    expect(decodeByteLevelTokens(["caf", "é", " ok"]).tokens).toEqual(["caf", "é", " ok"]);
    expect(decodeByteLevelTokens(["a", "’", "b"]).tokens).toEqual(["a", "’", "b"]);
    expect(decodeByteLevelToken("é")).toBe("é");
    expect(decodeByteLevelTokens(["日本", "語"]).text).toBe("日本語");
  });

  it("decodes the real SAEDashboard sample (gpt2-small res-jb, feature 0)", () => {
    const path = join(import.meta.dirname, "..", "..", "fixtures", "saedashboard", "gpt2-small-0-res-jb-batch-0.json");
    const data = JSON.parse(readFileSync(path, "utf8")) as { features: { activations: { tokens: string[] }[] }[] };
    const first = decodeByteLevelTokens(data.features[0]!.activations[0]!.tokens);
    expect(first.text).toContain("I happen to agree with this. But there’s a sadder and more pointed");
    expect(first.tokens).toHaveLength(data.features[0]!.activations[0]!.tokens.length);
    for (const f of data.features) {
      for (const a of f.activations) {
        const d = decodeByteLevelTokens(a.tokens);
        expect(d.text).not.toMatch(/âĢ|Ġ/);
        expect(d.tokens.join("")).toBe(d.text);
      }
    }
  });
});
