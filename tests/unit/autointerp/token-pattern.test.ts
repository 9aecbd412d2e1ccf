// Offline token-pattern labels: activation-weighted and specificity-weighted (tf-idf
// against every feature's contexts), with shared context words.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { termOf, TokenPatternLabeler } from "../../../src/modules/autointerp/token-pattern.ts";

const tok = (s: string) => s.split(" ").map((w, i) => (i ? ` ${w}` : w));
/** An example whose listed words activate with the given values. */
function ex(sentence: string, active: Record<string, number>) {
  const tokens = tok(sentence);
  return { tokens, values: tokens.map((t) => active[t.trim()] ?? 0) };
}

describe("token-pattern labels", () => {
  it("prefers specific tokens over frequent ones and adds shared context words", () => {
    const l = new TokenPatternLabeler();
    // Politics: "the" fires too (above the highlight threshold), but it is in every feature's contexts.
    l.add(0, [
      ex("the president spoke to the politics committee", { president: 9, the: 4 }),
      ex("the senator left the politics debate early", { senator: 8, the: 4 }),
      ex("a governor joined the politics panel today", { governor: 7, the: 3 }),
      ex("the president vetoed the politics bill", { president: 8, the: 4 }),
      ex("our senator praised the politics reform", { senator: 6, the: 3 }),
    ]);
    const others = ["the cat sat on the mat", "the rain fell on the hills", "the market closed the day higher", "the song played on the radio"];
    others.forEach((s, i) => l.add(i + 1, [ex(s, { [s.split(" ")[1]]: 5 }), ex(`${s} again`, { [s.split(" ")[1]]: 4 })]));
    const labels = new Map(l.labels().map((x) => [x.featureIndex, x.text]));
    expect(labels.get(0)).toBe("president, senator, governor (politics)");
    expect(labels.get(1)).toBe("cat (mat, sat)");
    expect(labels.size).toBe(5);
  });

  it("skips features that never fire and merges plurals", () => {
    const l = new TokenPatternLabeler();
    l.add(0, [{ tokens: ["a", " b"], values: [0, 0] }]);
    l.add(1, [ex("two brigades marched", { brigades: 5 }), ex("one brigade waited", { brigade: 6 })]);
    expect(l.labels()).toEqual([{ featureIndex: 1, text: "brigade" }]);
    expect(l.count).toBe(1);
  });

  it("normalises tokens", () => {
    expect(termOf(" Brigade,")).toBe("brigade");
    expect(termOf(" .")).toBe(".");
    expect(termOf("U.S.")).toBe("u.s");
  });

  it("labels the real military-units feature by its strongest tokens", () => {
    const real = JSON.parse(readFileSync(join(import.meta.dirname, "../../fixtures/saedashboard-feature0-activations.json"), "utf8"));
    const l = new TokenPatternLabeler();
    l.add(0, real.activations);
    const [label] = l.labels();
    expect(label.text.split(", ")[0]).toBe("brigade");
    expect(label.text).toMatch(/infantry/);
  });
});
