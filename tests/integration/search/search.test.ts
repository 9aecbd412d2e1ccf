// Concept search on a hand-made family (real English labels and contexts, real GloVe
// vectors for the words involved), on both backends.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OFFLINE_EMBEDDER_ID } from "../../../src/modules/search/embedder.ts";
import { SearchRepository } from "../../../src/modules/search/search.repository.ts";
import { type ConceptHit, SearchService } from "../../../src/modules/search/search.service.ts";
import { openTestApp, type TestApp } from "../../helpers/backend.ts";
import { loadToyFixture, MINI_WORD_VECTORS } from "../../helpers/search-fixture.ts";

let t: TestApp;
let search: SearchService;
const ids = (hits: ConceptHit[]) => hits.map((h) => `${h.saeId}:${h.index}`);

beforeAll(async () => {
  t = await openTestApp();
  await loadToyFixture(t.app);
  search = new SearchService(new SearchRepository(t.app.db), t.app.services.sae, { wordVectorsDir: MINI_WORD_VECTORS });
  for (const sae of ["toy/small", "toy/large", "other/sae"]) await search.indexSae(sae);
});
afterAll(async () => {
  await t?.close();
});

describe("indexing", () => {
  it("writes one document per label, and one for an unlabelled feature with activating text", async () => {
    const rows = await t.app.db.prisma.$queryRaw<{ n: number; unlabelled: number }[]>`
      SELECT count(*)::int AS n, count(*) FILTER (WHERE explanation_id IS NULL)::int AS unlabelled
      FROM search_document WHERE sae_id = 'toy/small'`;
    expect(rows[0]).toEqual({ n: 9, unlabelled: 1 });
  });

  it("stores every label vector under the offline embedder's id, with its dimension and transform", async () => {
    const rows = await t.app.db.prisma.$queryRaw<{ embedder: string; dim: number; n: number }[]>`
      SELECT embedder, dim, count(*)::int AS n FROM explanation_embedding GROUP BY embedder, dim`;
    expect(rows).toEqual([{ embedder: OFFLINE_EMBEDDER_ID, dim: 100, n: 12 }]);
    const emb = await t.app.db.prisma.$queryRaw<{ kind: string; dim: number; params: { component: number[] } }[]>`
      SELECT kind, dim, params FROM search_embedder`;
    expect(emb).toHaveLength(1);
    expect(emb[0].kind).toBe("sif");
    expect(emb[0].params.component).toHaveLength(100);
  });

  it("refreshing twice gives the same documents", async () => {
    const before = await search.refreshSearchDocuments("toy/small");
    expect(await search.refreshSearchDocuments("toy/small")).toBe(before);
  });
});

describe("LEXICAL", () => {
  it("ranks a label match first and shows the label", async () => {
    const hits = await search.search({ query: "laughter", mode: "LEXICAL", k: 5 });
    expect(ids(hits)[0]).toBe("toy/small:1");
    expect(hits[0].matchedText).toBe("laughter and amusement");
  });

  it("finds an unlabelled feature by its activating text and shows the matching context", async () => {
    const hits = await search.search({ query: "volcano eruption", mode: "LEXICAL", k: 5 });
    expect(ids(hits)[0]).toBe("toy/small:6");
    expect(hits[0].matchedText).toMatch(/volcano/i);
  });

  it("matches a misspelled word through trigrams", async () => {
    const hits = await search.search({ query: "presidnets", mode: "LEXICAL", k: 5 });
    expect(ids(hits)).toContain("toy/small:0");
  });

  it("weighs a label match above the same word in activating text", async () => {
    // "party" is in toy/small:3's label and in toy/large:0's label, but only in the contexts of nothing else;
    // "election" is only in toy/small:3's contexts: the label match on "parties" must come first.
    const hits = await search.search({ query: "parties", mode: "LEXICAL", k: 5 });
    expect(ids(hits).slice(0, 2).sort()).toEqual(["toy/large:0", "toy/small:3"]);
  });
});

describe("SEMANTIC", () => {
  it("finds labels by meaning with no shared word", async () => {
    const hits = await search.search({ query: "giggling comedy", mode: "SEMANTIC", k: 3 });
    expect(["toy/small:1", "toy/large:1"]).toContain(ids(hits)[0]);
    expect(hits[0].score).toBeGreaterThan(0);
    expect(hits[0].score).toBeLessThanOrEqual(1);
  });

  it("answers with labels, each feature once, best cosine first", async () => {
    const hits = await search.search({ query: "french and german cities", mode: "SEMANTIC", k: 20 });
    expect(new Set(ids(hits)).size).toBe(hits.length);
    for (let i = 1; i < hits.length; i++) expect(hits[i].score).toBeLessThanOrEqual(hits[i - 1].score);
    expect(ids(hits)[0]).toBe("toy/small:4");
    expect(hits[0].matchedText).toBe("countries of Europe");
  });

  it("returns nothing for a query with no known word", async () => {
    expect(await search.search({ query: "zzxq", mode: "SEMANTIC" })).toEqual([]);
  });
});

describe("HYBRID", () => {
  it("is the default and fuses both lists", async () => {
    const hits = await search.search({ query: "american presidents" });
    // Both US-president labels come before "presidents of companies", which shares only the word.
    expect(ids(hits).slice(0, 2).sort()).toEqual(["toy/large:2", "toy/small:0"]);
    expect(ids(hits).indexOf("other/sae:0")).toBeGreaterThan(1);
    expect(hits[0].score).toBeGreaterThan(0);
  });

  it("still finds the unlabelled feature through its contexts, with the snippet", async () => {
    const hits = await search.search({ query: "lava", k: 5 });
    const i = ids(hits).indexOf("toy/small:6");
    expect(i).toBeGreaterThanOrEqual(0);
    expect(i).toBeLessThan(2);
    expect(hits[i].matchedText).toMatch(/lava/);
  });
});

describe("filters", () => {
  it("saeIds, familyId and modelId narrow the SAEs searched", async () => {
    const q = "presidents";
    expect(new Set((await search.search({ query: q, saeIds: ["toy/large"] })).map((h) => h.saeId))).toEqual(new Set(["toy/large"]));
    const fam = await search.search({ query: q, familyId: "toy-family" });
    expect(fam.some((h) => h.saeId === "other/sae")).toBe(false);
    const other = await search.search({ query: q, modelId: "other-model" });
    expect(ids(other)).toEqual(["other/sae:0"]);
  });

  it("labelMethod and minScore filter labels in every mode", async () => {
    for (const mode of ["LEXICAL", "SEMANTIC", "HYBRID"] as const) {
      const llm = await search.search({ query: "cooking football", mode, labelMethod: "llm-explain/v1" });
      expect(ids(llm).sort()).toEqual(["toy/small:7", "toy/small:8"]);
      const good = await search.search({ query: "cooking football", mode, minScore: 0.5 });
      expect(ids(good)).toEqual(["toy/small:7"]);
    }
  });

  it("rejects unknown SAEs, families and models, empty queries and bad k", async () => {
    await expect(search.search({ query: "x", saeIds: ["nope"] })).rejects.toThrow(/SAE "nope" not found/);
    await expect(search.search({ query: "x", familyId: "nope" })).rejects.toThrow(/family "nope" not found/);
    await expect(search.search({ query: "x", modelId: "nope" })).rejects.toThrow(/model "nope" not found/);
    await expect(search.search({ query: "  " })).rejects.toThrow(/must not be empty/);
    await expect(search.search({ query: "x", k: 0 })).rejects.toThrow(/k must be/);
  });
});
