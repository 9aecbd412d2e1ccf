// Prompt rendering (on a real SAEDashboard feature) and plain-text answer parsing.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { activationList, activeMask, type Example, highlight, readableTokens, splitExamples } from "../../../src/modules/autointerp/examples.ts";
import { binaryMetrics, pearson } from "../../../src/modules/autointerp/metrics.ts";
import { explainDelphiV1, parseExplanation } from "../../../src/modules/autointerp/prompts/explain.ts";
import { expectedFromLogprobs, parseBinaryList, parseSimulation } from "../../../src/modules/autointerp/prompts/score.ts";

const real = JSON.parse(readFileSync(join(import.meta.dirname, "../../fixtures/saedashboard-feature0-activations.json"), "utf8")) as {
  activations: { bin_min: number; tokens: string[]; values: number[] }[];
};
const realExamples: Example[] = real.activations.map((a, ordinal) => ({
  ordinal,
  kind: a.bin_min === -1 ? "top" : "quantile",
  tokens: a.tokens,
  values: a.values,
  maxValue: Math.max(...a.values),
  text: a.tokens.join(""),
}));

describe("explain prompt on real data (gpt2-small res-jb L0 feature 0: military units)", () => {
  const { train, heldOut } = splitExamples(realExamples);
  const messages = explainDelphiV1.build(train);
  const user = messages[1].content;

  it("shows the strongest tokens highlighted, with activation lists", () => {
    expect(messages[0].content).toContain("[EXPLANATION]:");
    expect(user).toContain("<<brigade>>");
    expect(user).toMatch(/<<(battalion|Infantry)>>/);
    expect(user).toContain('("brigade" : 10)');
    expect(user).toMatch(/Activations: \("Infantry" : 1\)/);
  });

  it("decodes byte-level BPE fragments and keeps whitespace outside the markers", () => {
    expect(user).toContain("Hillary’s reality <<brigade>>");
    expect(user).not.toContain("âĢ");
    expect(user).not.toMatch(/<<\s/);
  });

  it("deduplicates, holds out examples for scoring, and numbers the rest", () => {
    const distinct = new Set(realExamples.filter((e) => e.maxValue > 0).map((e) => e.text)).size;
    expect(train.length + heldOut.length).toBe(distinct);
    expect(heldOut.length).toBeGreaterThan(0);
    expect(new Set(train.map((e) => e.text)).size).toBe(train.length);
    for (const h of heldOut) expect(train.map((t) => t.text)).not.toContain(h.text);
    expect(user).toContain(`Example ${train.length}:`);
    expect(user).not.toContain(`Example ${train.length + 1}:`);
    // Windows, not whole 127-token contexts.
    for (const line of user.split("\n").filter((l) => l.startsWith("Example "))) expect(line.length).toBeLessThan(400);
  });
});

describe("token helpers", () => {
  it("decodes byte-level tokens and merges split characters", () => {
    const r = readableTokens(["ĠHillary", "âĢ", "Ļ", "s", "Ġbrigade"], [0, 0, 0.5, 0, 2]);
    expect(r.tokens).toEqual([" Hillary", "’", "s", " brigade"]);
    expect(r.values).toEqual([0, 0.5, 0, 2]);
  });
  it("passes already-decoded tokens through", () => {
    expect(readableTokens([" café", " au"], [1, 0]).tokens).toEqual([" café", " au"]);
  });
  it("highlights runs and lists activations", () => {
    const toks = ["The", " Royal", " Navy", " sailed"];
    const vals = [0, 3, 6, 0.5];
    const mask = activeMask(vals);
    expect(highlight(toks, (i) => mask[i])).toBe("The <<Royal Navy>> sailed");
    expect(activationList(toks, vals, mask, 6)).toBe('("Royal" : 5), ("Navy" : 10)');
  });
});

describe("parsing answers", () => {
  it("finds the explanation amid prose, markdown and variants", () => {
    expect(parseExplanation("Step 1: ...\n\n[EXPLANATION]: military unit names")).toBe("military unit names");
    expect(parseExplanation("**[EXPLANATION]:** “military units such as brigades”.")).toBe("military units such as brigades");
    expect(parseExplanation("blah\nExplanation: the word 'brigade'\nThanks!")).toBe("the word 'brigade'");
    expect(parseExplanation("[EXPLANATION]:\n\n  army units\n")).toBe("army units");
    expect(parseExplanation("[explanation] : lower case works")).toBe("lower case works");
    expect(parseExplanation("first [EXPLANATION]: draft\nfinal [EXPLANATION]: final answer")).toBe("final answer");
    expect(parseExplanation("I cannot tell.")).toBeNull();
    expect(parseExplanation("[EXPLANATION]: <your explanation>")).toBeNull();
    expect(parseExplanation("[EXPLANATION]:")).toBeNull();
  });

  it("finds a 0/1 list of the right length", () => {
    expect(parseBinaryList("Reasoning...\n[1, 0, 1]", 3)).toEqual([1, 0, 1]);
    expect(parseBinaryList("[1, 2] then the answer:\n1, 0, 0, 1", 4)).toEqual([1, 0, 0, 1]);
    expect(parseBinaryList("```\n[0,1]\n```", 2)).toEqual([0, 1]);
    expect(parseBinaryList("[1, 0]", 3)).toBeNull();
    expect(parseBinaryList("no idea", 2)).toBeNull();
  });

  it("parses simulation lines, padding short lists", () => {
    const p = parseSimulation("Sure.\nExample 1: [0, 10, 3]\nExample 2: [5]", [3, 2]);
    expect(p?.values).toEqual([[0, 10, 3], [5, 0]]);
    expect(parseSimulation("Example 1: [1]", [1, 1])).toBeNull();
  });

  it("uses logprobs for expected values when they align with the text", () => {
    const answer = "Example 1: [0, 10]";
    const p = parseSimulation(answer, [2])!;
    const toks = ["Example", " 1", ":", " [", "0", ",", " 10", "]"];
    const lp = toks.map((t) => ({
      token: t,
      logprob: 0,
      top: t.trim() === "0" ? [{ token: "0", logprob: Math.log(0.5) }, { token: "2", logprob: Math.log(0.5) }] : t.trim() === "10" ? [{ token: " 10", logprob: 0 }] : [],
    }));
    expect(expectedFromLogprobs(answer, p, lp)).toEqual([[1, 10]]);
    expect(expectedFromLogprobs(answer, p, lp.slice(1))).toBeNull();
  });
});

describe("metrics", () => {
  it("computes balanced accuracy, precision, recall and F1", () => {
    const m = binaryMetrics([1, 1, 1, 1, 0, 0, 0, 0], [1, 1, 1, 0, 1, 0, 0, 0]);
    expect(m).toMatchObject({ tp: 3, fn: 1, fp: 1, tn: 3 });
    expect(m.balancedAccuracy).toBeCloseTo(0.75);
    expect(m.precision).toBeCloseTo(0.75);
    expect(m.recall).toBeCloseTo(0.75);
    expect(m.f1).toBeCloseTo(0.75);
  });
  it("computes Pearson correlation", () => {
    expect(pearson([1, 2, 3], [2, 4, 6])).toBeCloseTo(1);
    expect(pearson([1, 2, 3], [3, 2, 1])).toBeCloseTo(-1);
    expect(pearson([1, 1, 1], [1, 2, 3])).toBeNull();
  });
});
