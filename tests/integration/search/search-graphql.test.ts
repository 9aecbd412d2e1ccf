// Query.searchConcepts through the GraphQL layer (on the app's own search service).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { executeQuery } from "../../../src/graphql/execute.ts";
import { openTestApp, type TestApp } from "../../helpers/backend.ts";
import { loadToyFixture } from "../../helpers/search-fixture.ts";

let t: TestApp;

beforeAll(async () => {
  t = await openTestApp();
  await loadToyFixture(t.app);
  for (const sae of ["toy/small", "toy/large", "other/sae"]) await t.app.services.search.refreshSearchDocuments(sae);
});
afterAll(async () => {
  await t?.close();
});

const Q = `query ($q: String!, $mode: SearchMode, $k: Int, $saeIds: [ID!], $familyId: ID, $modelId: ID, $minScore: Float, $labelMethod: String) {
  searchConcepts(query: $q, mode: $mode, k: $k, saeIds: $saeIds, familyId: $familyId, modelId: $modelId, minScore: $minScore, labelMethod: $labelMethod) {
    feature { id index sae { id } }
    score
    matchedText
  }
}`;

describe("Query.searchConcepts", () => {
  it("returns features with their score and what matched", async () => {
    const res = await executeQuery(t.app, Q, { q: "volcano", mode: "LEXICAL", k: 3 });
    expect(res.errors).toBeUndefined();
    const hits = (res.data as { searchConcepts: { feature: { id: string; sae: { id: string } }; score: number; matchedText: string }[] }).searchConcepts;
    expect(hits[0].feature.id).toBe("toy/small:6");
    expect(hits[0].feature.sae.id).toBe("toy/small");
    expect(hits[0].score).toBeGreaterThan(0);
    expect(hits[0].matchedText).toMatch(/volcano/);
  });

  it("takes the filters added to the contract", async () => {
    const res = await executeQuery(t.app, Q, { q: "cooking sports", mode: "LEXICAL", labelMethod: "llm-explain/v1", minScore: 0.5, familyId: "toy-family", modelId: "toy-model" });
    expect(res.errors).toBeUndefined();
    const hits = (res.data as { searchConcepts: { feature: { id: string } }[] }).searchConcepts;
    expect(hits.map((h) => h.feature.id)).toEqual(["toy/small:7"]);
  });

  it("reports a user-fixable problem as BAD_USER_INPUT / NOT_FOUND", async () => {
    const empty = await executeQuery(t.app, Q, { q: "" });
    expect((empty.errors?.[0] as { extensions: { code: string } }).extensions.code).toBe("BAD_USER_INPUT");
    const missing = await executeQuery(t.app, Q, { q: "x", saeIds: ["nope"] });
    expect((missing.errors?.[0] as { extensions: { code: string } }).extensions.code).toBe("NOT_FOUND");
  });
});
