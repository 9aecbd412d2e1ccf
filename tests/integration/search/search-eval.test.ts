// Search quality on the demo family (data/demo): the judged evaluation set
// tests/fixtures/search-eval.json (44 queries, expected features chosen by reading the
// features' top words and contexts), hit@10 and MRR@10 per mode. HYBRID must beat
// each single mode on both. The demo family is set up as `monoscope demo` does it
// (ingest, token-pattern labels, the concept-search step).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tokenPatternLabelsStep } from "../../../src/demo/labels-step.ts";
import { DEMO_FAMILY_ID } from "../../../src/demo/demo.types.ts";
import { ingestDemoFamily } from "../../../src/demo/ingest-family.ts";
import { runDemoSetup } from "../../../src/demo/run-demo.ts";
import { conceptSearchStep } from "../../../src/demo/search-step.ts";
import { evaluateSearch, type JudgedQuery, type ModeQuality } from "../../../src/modules/search/evaluation.ts";
import { openTestApp, type TestApp } from "../../helpers/backend.ts";

const evalSet = JSON.parse(readFileSync(join(import.meta.dirname, "..", "..", "fixtures", "search-eval.json"), "utf8")) as {
  family: string;
  queries: JudgedQuery[];
};

let t: TestApp;
let quality: Record<string, ModeQuality>;

beforeAll(async () => {
  t = await openTestApp();
  // Maps, neighbour lists and lineage are not what this measures (and cost minutes on PGlite).
  t.app.services.ingest.steps = null;
  await runDemoSetup(t.app, { steps: [ingestDemoFamily, tokenPatternLabelsStep, conceptSearchStep] });
}, 1_200_000);
afterAll(async () => {
  await t?.close();
});

describe("concept search on the demo family", () => {
  it("has every judged feature (the set belongs to this build of data/demo)", async () => {
    expect(evalSet.family).toBe(DEMO_FAMILY_ID);
    expect(evalSet.queries.length).toBeGreaterThanOrEqual(30);
    const keys = [...new Set(evalSet.queries.flatMap((q) => q.expected))];
    const found = await t.app.db.prisma.explanation.findMany({
      where: { OR: keys.map((k) => ({ saeId: k.slice(0, k.lastIndexOf(":")), featureIndex: Number(k.slice(k.lastIndexOf(":") + 1)) })) },
      select: { saeId: true, featureIndex: true },
    });
    expect(found.length).toBe(keys.length);
  });

  it("the demo step keeps an indexed family as it is", async () => {
    const summary = await conceptSearchStep.run({ services: t.app.services, saes: [512, 2048, 8192].map((n) => ({ id: `${DEMO_FAMILY_ID}/${n}` })) });
    expect(summary.match(/\(kept\)/g)).toHaveLength(3);
    expect(summary).toContain("glove-wordnet/v1");
  });

  it("HYBRID beats each single mode on hit@10 and MRR@10", async () => {
    quality = await evaluateSearch(
      (query, mode, k) => t.app.services.search.search({ query, mode, k, familyId: DEMO_FAMILY_ID }),
      evalSet.queries,
    );
    const line = (m: string) => `${m} hit@10 ${quality[m].hitAtK.toFixed(3)} MRR@10 ${quality[m].mrrAtK.toFixed(3)}`;
    console.log(`search quality (${evalSet.queries.length} queries): ${["HYBRID", "SEMANTIC", "LEXICAL"].map(line).join("; ")}`);
    for (const single of ["SEMANTIC", "LEXICAL"]) {
      expect(quality.HYBRID.hitAtK).toBeGreaterThan(quality[single].hitAtK);
      expect(quality.HYBRID.mrrAtK).toBeGreaterThan(quality[single].mrrAtK);
    }
  }, 300_000);

  it("answers the issue's example queries with the features a reader expects", async () => {
    const top = async (query: string) => (await t.app.services.search.search({ query, k: 10, familyId: DEMO_FAMILY_ID })).map((h) => `${h.saeId}:${h.index}`);
    for (const q of evalSet.queries.filter((x) => ["american presidents", "laughing and crying", "political parties in europe", "web and social media"].includes(x.query))) {
      expect(await top(q.query)).toEqual(expect.arrayContaining([expect.toSatisfy((id: string) => q.expected.includes(id))]));
    }
  });
});
