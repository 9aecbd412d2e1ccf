// SEMANTIC through an OpenAI-compatible embeddings endpoint (the fake server, reached by
// the real client): label vectors are stored under the endpoint's embedder id and a
// query is only ever compared with vectors of that id, never with the offline ones.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLlmClient } from "../../../src/modules/autointerp/llm-client.ts";
import { loadConfig } from "../../../src/config.ts";
import { OFFLINE_EMBEDDER_ID } from "../../../src/modules/search/embedder.ts";
import { SearchRepository } from "../../../src/modules/search/search.repository.ts";
import { SearchService } from "../../../src/modules/search/search.service.ts";
import { type FakeOpenAI, startFakeOpenAI } from "../../fixtures/fake-openai-server.ts";
import { openTestApp, type TestApp } from "../../helpers/backend.ts";
import { loadToyFixture, MINI_WORD_VECTORS } from "../../helpers/search-fixture.ts";

let t: TestApp;
let fake: FakeOpenAI;
let search: SearchService;
let offlineOnly: SearchService;

beforeAll(async () => {
  fake = await startFakeOpenAI({ embeddingDim: 48 });
  t = await openTestApp();
  await loadToyFixture(t.app);
  const llm = loadConfig({ OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: "sk-test-key-123456" } as NodeJS.ProcessEnv).llm!;
  const repo = new SearchRepository(t.app.db);
  search = new SearchService(repo, t.app.services.sae, {
    llm: { client: createLlmClient(llm), embeddingModel: "text-embedding-3-small" },
    wordVectorsDir: MINI_WORD_VECTORS,
  });
  offlineOnly = new SearchService(repo, t.app.services.sae, { wordVectorsDir: MINI_WORD_VECTORS });
  for (const sae of ["toy/small", "toy/large", "other/sae"]) await search.indexSae(sae);
});
afterAll(async () => {
  await t?.close();
  await fake?.close();
});

describe("endpoint embedder", () => {
  it("embeds labels through the endpoint once, under its own id and dimension", async () => {
    expect(await search.embedLabels("toy/small", "openai")).toBe(8);
    expect(await search.embedLabels("toy/small", "openai")).toBe(0); // nothing left to pay for
    const rows = await t.app.db.prisma.$queryRaw<{ embedder: string; dim: number; n: number }[]>`
      SELECT embedder, dim, count(*)::int AS n FROM explanation_embedding GROUP BY embedder, dim ORDER BY embedder`;
    expect(rows).toEqual([
      { embedder: OFFLINE_EMBEDDER_ID, dim: 100, n: 12 },
      { embedder: "openai:text-embedding-3-small", dim: 48, n: 8 },
    ]);
  });

  it("answers SEMANTIC queries from the endpoint's vectors only", async () => {
    const before = fake.requests.length;
    const hits = await search.search({ query: "cooking recipes", mode: "SEMANTIC", k: 20 });
    expect(fake.requests.length).toBe(before + 1); // the query's embedding
    expect(hits[0]).toMatchObject({ saeId: "toy/small", index: 7, matchedText: "cooking and recipes" });
    // Only toy/small's labels have endpoint vectors: the others are not compared at all.
    expect(new Set(hits.map((h) => h.saeId))).toEqual(new Set(["toy/small"]));
  });

  it("can be told to use the offline embedder instead", async () => {
    const hits = await search.search({ query: "cooking recipes", mode: "SEMANTIC", embedder: OFFLINE_EMBEDDER_ID, k: 20 });
    expect(new Set(hits.map((h) => h.saeId))).toEqual(new Set(["toy/small", "toy/large", "other/sae"]));
    await expect(search.search({ query: "x", mode: "SEMANTIC", embedder: "nope" })).rejects.toThrow(/unknown embedder "nope"/);
  });

  it("without an endpoint, uses the offline vectors", async () => {
    const before = fake.requests.length;
    const hits = await offlineOnly.search({ query: "cooking recipes", mode: "SEMANTIC", k: 3 });
    expect(hits[0].index).toBe(7);
    expect(fake.requests.length).toBe(before);
    await expect(offlineOnly.embedLabels("toy/small", "openai")).rejects.toThrow(/no embeddings endpoint/);
  });
});
