// SEMANTIC through the embedder's partial HNSW index (built here at a tiny threshold):
// the same answers as the exact scan, and filters that exclude most of the index's
// nearest vectors fall back to the exact scan instead of losing results.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { embeddingIndexStatement } from "../../../src/db/ddl.ts";
import { OFFLINE_EMBEDDER_ID } from "../../../src/modules/search/embedder.ts";
import { SearchRepository } from "../../../src/modules/search/search.repository.ts";
import { SearchService } from "../../../src/modules/search/search.service.ts";
import { openTestApp, type TestApp } from "../../helpers/backend.ts";
import { loadToyFixture, MINI_WORD_VECTORS } from "../../helpers/search-fixture.ts";

let t: TestApp;
let indexed: SearchService;
let exact: SearchService;

beforeAll(async () => {
  t = await openTestApp();
  await loadToyFixture(t.app);
  const repo = new SearchRepository(t.app.db);
  // Exact answers first (no index yet), then the indexed service builds it.
  exact = new SearchService(repo, t.app.services.sae, { wordVectorsDir: MINI_WORD_VECTORS });
  for (const sae of ["toy/small", "toy/large", "other/sae"]) await exact.indexSae(sae);
  indexed = new SearchService(repo, t.app.services.sae, { wordVectorsDir: MINI_WORD_VECTORS, hnswMinVectors: 5 });
});
afterAll(async () => {
  await t?.close();
});

const queries = ["american presidents", "laughing and crying", "european countries", "cooking", "web and social media"];

describe("HNSW label index", () => {
  let exactAnswers: string[][];

  it("exact answers (before the index exists)", async () => {
    exactAnswers = [];
    for (const q of queries) exactAnswers.push((await exact.search({ query: q, mode: "SEMANTIC", k: 5 })).map((h) => `${h.saeId}:${h.index}`));
    expect(exactAnswers.every((a) => a.length === 5)).toBe(true);
  });

  it("is built per embedder once the vectors pass the threshold", async () => {
    await indexed.embedLabels("toy/small");
    const { name } = embeddingIndexStatement(OFFLINE_EMBEDDER_ID, 100);
    const rows = await t.app.db.prisma.$queryRaw<{ indexdef: string }[]>`SELECT indexdef FROM pg_indexes WHERE indexname = ${name}`;
    expect(rows).toHaveLength(1);
    expect(rows[0].indexdef).toMatch(/hnsw/);
    expect(rows[0].indexdef).toContain(`'${OFFLINE_EMBEDDER_ID}'`);
  });

  it("gives the exact scan's answers on this small set", async () => {
    for (let i = 0; i < queries.length; i++) {
      const got = (await indexed.search({ query: queries[i], mode: "SEMANTIC", k: 5 })).map((h) => `${h.saeId}:${h.index}`);
      expect(got).toEqual(exactAnswers[i]);
    }
  });

  it("is rebuilt, not grown, by a write that adds a large share of it", async () => {
    await indexed.embedLabels("toy/large");
    await indexed.reindexAll();
    const { name } = embeddingIndexStatement(OFFLINE_EMBEDDER_ID, 100);
    const rows = await t.app.db.prisma.$queryRaw<unknown[]>`SELECT 1 FROM pg_indexes WHERE indexname = ${name}`;
    expect(rows).toHaveLength(1);
    for (let i = 0; i < queries.length; i++) {
      const got = (await indexed.search({ query: queries[i], mode: "SEMANTIC", k: 5 })).map((h) => `${h.saeId}:${h.index}`);
      expect(got).toEqual(exactAnswers[i]);
    }
  });

  it("keeps filtered results complete (exact fallback)", async () => {
    const hits = await indexed.search({ query: "american presidents", mode: "SEMANTIC", k: 5, modelId: "other-model" });
    expect(hits.map((h) => `${h.saeId}:${h.index}`)).toEqual(["other/sae:0"]);
    const small = await indexed.search({ query: "cooking", mode: "SEMANTIC", k: 20, labelMethod: "llm-explain/v1" });
    expect(small.map((h) => h.index).sort()).toEqual([7, 8]);
  });
});
