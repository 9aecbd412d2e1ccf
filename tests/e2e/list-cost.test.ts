// Over HTTP: a list field without first/k is charged at its stored size, read from the
// database when the query is costed. Asking for many features' decoders is refused once
// the stored dIn makes it exceed the cost limit, allowed under it, and the bound follows
// ingests and deletes without a restart.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTestApp, type TestApp } from "../helpers/backend.ts";
import { seedFeatures } from "../helpers/feature-seed.ts";
import { startTestServer, type TestServer } from "../helpers/http-server.ts";

let t: TestApp;
let s: TestServer;
const small = "m/small";
const decoders = (first: number) => ({ query: `{ features(saeId: "${small}", first: ${first}) { edges { node { decoder } } } }` });
const code = (json: any) => json?.errors?.[0]?.extensions?.code;

beforeAll(async () => {
  t = await openTestApp({ MONOSCOPE_MAX_COST: "50000" });
  await seedFeatures(t.app, { n: 60, dIn: 64, saeId: small, modelId: "m" });
  s = await startTestServer(t.app, { rateLimitPerMinute: 0 });
});
afterAll(async () => {
  await s?.close();
  await t?.close();
});

describe("decoder cost at the stored dIn", () => {
  it("allows 60 decoders of 64 values (cost 1 + 60 x 67)", async () => {
    const r = await s.post(decoders(60));
    expect(r.json.errors).toBeUndefined();
    expect(r.json.data.features.edges).toHaveLength(60);
    expect(r.json.data.features.edges[0].node.decoder).toHaveLength(64);
  });

  it("refuses the same query once an SAE with dIn 1024 is stored, before it runs", async () => {
    await seedFeatures(t.app, { n: 2, dIn: 1024, saeId: "m/big", modelId: "m" });
    const statements = t.app.db.stats.statements;
    const r = await s.post(decoders(60));
    expect(r.json.data).toBeUndefined();
    expect(code(r.json)).toBe("GRAPHQL_VALIDATION_FAILED");
    expect(r.json.errors[0].message).toMatch(/query cost 61621 exceeds the limit of 50000/);
    expect(r.json.errors[0].message).toMatch(/Feature\.decoder 1024/);
    expect(r.json.errors[0].extensions.cost).toBe(61621);
    // Only the size look-up ran (the look, and the scan of the new SAE): no feature was read.
    expect(t.app.db.stats.statements - statements).toBeLessThanOrEqual(2);
  });

  it("allows it under the limit (40 x 1027)", async () => {
    const r = await s.post(decoders(40));
    expect(r.json.errors).toBeUndefined();
    expect(r.json.data.features.edges).toHaveLength(40);
  });

  it("answers example tokens under the limit and adds up the decoders of every alias", async () => {
    // 60 features x 20 examples x (tokens + values) at the seed's example length stays well under.
    const q = `{ features(saeId: "${small}", first: 60) { edges { node { topActivations(first: 20) { tokens values } } } } }`;
    const r = await s.post({ query: q });
    expect(r.json.errors).toBeUndefined();
    const aliased = `{ ${Array.from({ length: 20 }, (_, i) => `a${i}: features(saeId: "${small}", first: 50) { edges { node { decoder } } }`).join(" ")} }`;
    const refused = await s.post({ query: aliased });
    expect(code(refused.json)).toBe("GRAPHQL_VALIDATION_FAILED");
  });

  it("follows a delete: with the large SAE gone, 60 decoders are allowed again", async () => {
    await t.app.services.ingest.removeSae("m/big");
    const r = await s.post(decoders(60));
    expect(r.json.errors).toBeUndefined();
    expect(r.json.data.features.edges).toHaveLength(60);
  });
});
