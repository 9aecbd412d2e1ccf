// Search quality on the demo family (data/demo): the judged evaluation set
// tests/fixtures/search-eval.json (expected features chosen by reading the features' top
// words before any search ran), hit@10 and MRR@10 per mode. The set is split once, by
// position, into a tuning half (search parameters were chosen on it) and a held-out half
// (never used for choosing): the floors below are on the held-out half. The demo family is
// set up as `monoscope demo` does it (ingest, token-pattern labels, the concept-search step).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tokenPatternLabelsStep } from "../../../src/demo/labels-step.ts";
import { DEMO_FAMILY_ID } from "../../../src/demo/demo.types.ts";
import { ingestDemoFamily } from "../../../src/demo/ingest-family.ts";
import { runDemoSetup } from "../../../src/demo/run-demo.ts";
import { conceptSearchStep } from "../../../src/demo/search-step.ts";
import { evaluateSearch, type JudgedQuery, type ModeQuality } from "../../../src/modules/search/evaluation.ts";
import type { SearchMode } from "../../../src/modules/search/search.service.ts";
import { openTestApp, type TestApp } from "../../helpers/backend.ts";

type Split = "tuning" | "heldout";
const evalSet = JSON.parse(readFileSync(join(import.meta.dirname, "..", "..", "fixtures", "search-eval.json"), "utf8")) as {
  family: string;
  queries: (JudgedQuery & { split: Split; added?: string })[];
};
const half = (split: Split) => evalSet.queries.filter((q) => q.split === split);

/**
 * Held-out floors: the figures measured at the commit that set them (39 queries; the same on
 * PGlite and PostgreSQL), less about one query's worth. HYBRID hit@10 0.949, MRR@10 0.791;
 * SEMANTIC 0.923 / 0.813; LEXICAL 0.846 / 0.647. HYBRID's 0.9 is issue 14's aim.
 */
const HELD_OUT_FLOORS: Record<SearchMode, { hitAtK: number; mrrAtK: number }> = {
  HYBRID: { hitAtK: 0.9, mrrAtK: 0.75 },
  SEMANTIC: { hitAtK: 0.87, mrrAtK: 0.77 },
  LEXICAL: { hitAtK: 0.8, mrrAtK: 0.6 },
};
const MODES: SearchMode[] = ["HYBRID", "SEMANTIC", "LEXICAL"];

let t: TestApp;

beforeAll(async () => {
  t = await openTestApp();
  // Maps, neighbour lists and lineage are not what this measures (and cost minutes on PGlite).
  t.app.services.ingest.steps = null;
  await runDemoSetup(t.app, { steps: [ingestDemoFamily, tokenPatternLabelsStep, conceptSearchStep] });
}, 1_200_000);
afterAll(async () => {
  await t?.close();
});

async function measure(split: Split): Promise<Record<string, ModeQuality>> {
  const queries = half(split);
  const quality = await evaluateSearch((query, mode, k) => t.app.services.search.search({ query, mode, k, familyId: DEMO_FAMILY_ID }), queries);
  const line = (m: string) => `${m} hit@10 ${quality[m].hitAtK.toFixed(3)} MRR@10 ${quality[m].mrrAtK.toFixed(3)}`;
  const misses = MODES.map((m) => `${m}: ${quality[m].misses.join(" | ") || "none"}`).join("; ");
  console.log(`[${t.db.backend}] search quality, ${split} half (${queries.length} queries): ${MODES.map(line).join("; ")}. Misses ${misses}`);
  return quality;
}

describe("concept search on the demo family", () => {
  it("has every judged feature (the set belongs to this build of data/demo)", async () => {
    expect(evalSet.family).toBe(DEMO_FAMILY_ID);
    const keys = [...new Set(evalSet.queries.flatMap((q) => q.expected))];
    const found = await t.app.db.prisma.explanation.findMany({
      where: { OR: keys.map((k) => ({ saeId: k.slice(0, k.lastIndexOf(":")), featureIndex: Number(k.slice(k.lastIndexOf(":") + 1)) })) },
      select: { saeId: true, featureIndex: true },
    });
    expect(new Set(found.map((f) => `${f.saeId}:${f.featureIndex}`)).size).toBe(keys.length);
  });

  it("splits the set by position: even positions tune, odd ones are held out, new queries in both", () => {
    expect(evalSet.queries.map((q) => q.split)).toEqual(evalSet.queries.map((_, i) => (i % 2 === 0 ? "tuning" : "heldout")));
    for (const split of ["tuning", "heldout"] as const) {
      expect(half(split).length).toBeGreaterThanOrEqual(35);
      expect(half(split).filter((q) => q.added).length).toBeGreaterThanOrEqual(15);
      expect(half(split).every((q) => q.expected.length > 0)).toBe(true);
    }
    expect(new Set(evalSet.queries.map((q) => q.query)).size).toBe(evalSet.queries.length);
  });

  it("the demo step keeps an indexed family as it is", async () => {
    const summary = await conceptSearchStep.run({ services: t.app.services, saes: [512, 2048, 8192].map((n) => ({ id: `${DEMO_FAMILY_ID}/${n}` })) });
    expect(summary.match(/\(kept\)/g)).toHaveLength(3);
    expect(summary).toContain("glove-wordnet/v1");
  });

  it("held-out half: each mode stays above its floor, and HYBRID finds at least as many as either single mode", async () => {
    const quality = await measure("heldout");
    for (const m of MODES) {
      expect(quality[m].hitAtK, `${m} hit@10`).toBeGreaterThanOrEqual(HELD_OUT_FLOORS[m].hitAtK);
      expect(quality[m].mrrAtK, `${m} MRR@10`).toBeGreaterThanOrEqual(HELD_OUT_FLOORS[m].mrrAtK);
    }
    for (const single of ["SEMANTIC", "LEXICAL"]) expect(quality.HYBRID.hitAtK).toBeGreaterThanOrEqual(quality[single].hitAtK);
  }, 300_000);

  it("tuning half (where the parameters were chosen): HYBRID beats each single mode on hit@10 and MRR@10", async () => {
    const quality = await measure("tuning");
    for (const single of ["SEMANTIC", "LEXICAL"]) {
      expect(quality.HYBRID.hitAtK).toBeGreaterThan(quality[single].hitAtK);
      expect(quality.HYBRID.mrrAtK).toBeGreaterThan(quality[single].mrrAtK);
    }
  }, 300_000);

  it("answers the issue's example queries with the features a reader expects", async () => {
    const top = async (query: string) => (await t.app.services.search.search({ query, k: 10, familyId: DEMO_FAMILY_ID })).map((h) => `${h.saeId}:${h.index}`);
    const examples = ["american presidents", "laughing and crying", "political parties in europe", "web and social media", "cooking food", "family members"];
    const judged = evalSet.queries.filter((x) => examples.includes(x.query));
    expect(judged).toHaveLength(examples.length);
    for (const q of judged) {
      expect(await top(q.query), q.query).toEqual(expect.arrayContaining([expect.toSatisfy((id: string) => q.expected.includes(id))]));
    }
  });
});
