// The HTTP server's lean path (src/graphql/fast-path.ts) answers byte for byte what Apollo answers
// for the same request, and leaves every request it does not serve (errors, refusals, mutations,
// persisted queries, other media types) to Apollo, which answers them as before.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTestApp, type TestApp } from "../helpers/backend.ts";
import { seedFeatures } from "../helpers/feature-seed.ts";
import { startTestServer, type TestServer } from "../helpers/http-server.ts";

let t: TestApp;
let s: TestServer;
let saeId: string;

beforeAll(async () => {
  t = await openTestApp();
  ({ saeId } = await seedFeatures(t.app, { n: 20, examples: 2 }));
  await t.app.db.prisma.$executeRaw`INSERT INTO explanation (sae_id, feature_idx, text, method) SELECT ${saeId}, i, 'label ' || i, 'imported' FROM generate_series(0, 19) AS i`;
  s = await startTestServer(t.app, { apiKeys: ["secret-key"] });
});
afterAll(async () => {
  await s?.close();
  await t?.close();
});

async function raw(body: unknown, headers: Record<string, string> = {}) {
  const r = await fetch(s.graphql, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
  return { status: r.status, type: r.headers.get("content-type"), text: await r.text() };
}

const operations = async () => {
  const text = await (await fetch(`${s.url}/metrics`, { headers: { authorization: "Bearer secret-key" } })).text();
  return Number(/^monoscope_graphql_operations_total\{operation="other",type="query",outcome="ok"\} (\d+)/m.exec(text)?.[1] ?? 0);
};

const PAGE = `query Page($s: ID!, $i: Int!) { feature(saeId: $s, index: $i) { index density label explanations { text }
  topActivations(first: 3) { tokens values } neighbors(k: 4) { feature { index } cosine } } }`;

describe("lean GraphQL path", () => {
  it("answers a query as Apollo does (status, media type, body), counted in the metrics once", async () => {
    const before = await operations();
    const fast = await raw({ query: PAGE, variables: { s: saeId, i: 4 } });
    // extensions: {} is not the lean path's: Apollo answers it.
    const apollo = await raw({ query: PAGE, variables: { s: saeId, i: 4 }, extensions: {} });
    expect(fast).toEqual(apollo);
    expect(fast.status).toBe(200);
    expect(fast.type).toBe("application/json; charset=utf-8");
    expect(JSON.parse(fast.text).data.feature.label).toBe("label 4");
    expect((await operations()) - before).toBe(2);
    // Same again with an operation name, a default variable and a missing feature.
    const q = `query A { a: sae(id: "x") { id } } query B($i: Int = 999) { feature(saeId: "${saeId}", index: $i) { index } }`;
    expect(await raw({ query: q, operationName: "B" })).toEqual(await raw({ query: q, operationName: "B", extensions: {} }));
  });

  it("leaves errors, refusals and writes to Apollo, which answers them as before", async () => {
    const cases: [unknown, Record<string, string>?][] = [
      [{ query: "{ feature(saeId: 1, index: ) { index } }" }], // parse error
      [{ query: "{ feature(saeId: \"x\", index: 1) { nope } }" }], // validation error
      [{ query: PAGE, variables: { s: saeId, i: "four" } }], // variable coercion
      [{ query: PAGE, variables: { s: "nul\u0000", i: 1 } }], // NUL check
      [{ query: `{ features(saeId: "${saeId}", first: 1000) { edges { node { topActivations(first: 1000) { tokens } } } } }` }], // cost limit
      [{ query: `{ feature(saeId: "${saeId}", index: 1) { topActivations(first: 100000) { kind } } }` }], // resolver error (and cost)
      [{ query: `mutation { addExplanation(saeId: "${saeId}", index: 1, text: "x") { id } }` }], // write without a key
      [{ query: "query A { __typename } query B { __typename }" }], // no operation named
      [{ query: PAGE, variables: { s: saeId, i: 1 } }, { accept: "application/graphql-response+json" }],
    ];
    for (const [body, headers] of cases) {
      const fast = await raw(body, headers);
      const apollo = await raw({ ...(body as object), extensions: {} }, headers);
      expect(fast, JSON.stringify(body)).toEqual(apollo);
      if (!(headers && headers.accept)) expect(JSON.parse(fast.text).errors?.length, JSON.stringify(body)).toBeGreaterThan(0);
    }
  });

  it("costs a document served again by its stored sizes now: a list that grew past the limit is refused", async () => {
    const small = await startTestServer(t.app, { maxCost: 8 });
    try {
      const q = { query: `{ feature(saeId: "${saeId}", index: 11) { explanations { text method } } }` };
      const send = async () => (await (await fetch(small.graphql, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(q) })).json()) as any;
      expect((await send()).errors).toBeUndefined();
      expect((await send()).data.feature.explanations).toHaveLength(1);
      for (const text of ["two", "three", "four"]) await t.app.services.explanation.addHuman({ saeId, index: 11 }, text);
      const third = await send();
      expect(third.errors?.[0]).toMatchObject({ extensions: { code: "GRAPHQL_VALIDATION_FAILED", cost: 10, maxCost: 8 } });
    } finally {
      await small.close();
    }
  });

  it("keeps the read-key rule: a server that needs a key for reads refuses a query without one", async () => {
    const locked = await startTestServer(t.app, { apiKeys: ["secret-key"], readsRequireKey: true });
    try {
      const r = await fetch(locked.graphql, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query: PAGE, variables: { s: saeId, i: 1 } }) });
      expect(r.status).toBe(401);
      const ok = await fetch(locked.graphql, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: "Bearer secret-key" },
        body: JSON.stringify({ query: PAGE, variables: { s: saeId, i: 1 } }),
      });
      expect(ok.status).toBe(200);
      expect(((await ok.json()) as any).data.feature.index).toBe(1);
    } finally {
      await locked.close();
    }
  });
});
