// The in-process runner (run-operation.ts, behind `monoscope query`) answers exactly as the
// HTTP server's Apollo Server does: the same requests through both, answers compared whole,
// errors included (parse, validation, depth, cost, variables, operation choice, resolver
// errors, an unauthenticated mutation).
import type { ApolloServer } from "@apollo/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApolloServer } from "../../src/graphql/apollo.ts";
import type { GraphQLContext } from "../../src/graphql/context.ts";
import { createContext } from "../../src/graphql/create-context.ts";
import { createPipeline } from "../../src/graphql/pipeline.ts";
import { type OperationRequest, runOperation } from "../../src/graphql/run-operation.ts";
import { openTestApp, type TestApp } from "../helpers/backend.ts";
import { seedFeatures } from "../helpers/feature-seed.ts";

let t: TestApp;
let apollo: ApolloServer<GraphQLContext>;
let saeId: string;

beforeAll(async () => {
  t = await openTestApp({ MONOSCOPE_MAX_COST: "5000", MONOSCOPE_API_KEYS: "k-test-1" });
  ({ saeId } = await seedFeatures(t.app, { n: 20, examples: 1 }));
  apollo = createApolloServer(t.app);
  await apollo.start();
});
afterAll(async () => {
  await apollo?.stop();
  await t?.close();
});

const deep = (n: number): string => (n === 0 ? "id" : `family { saes { ${deep(n - 1)} } }`);

// SAE_ID stands for the seeded SAE, known only once beforeAll has run.
const cases: [string, OperationRequest, boolean][] = [
  ["a plain read", { query: "{ saes { id featureCount } }" }, true],
  ["a read with variables", { query: "query($s: ID!) { features(saeId: $s, first: 3) { totalCount edges { node { id index } } } }", variables: { s: "SAE_ID" } }, true],
  ["introspection", { query: "{ __schema { queryType { name } types { name kind } } }" }, true],
  ["an empty document", { query: "" }, true],
  ["a syntax error", { query: "{ saes { id " }, true],
  ["too many tokens", { query: `{ ${"saes { id } ".repeat(3000)} }` }, true],
  ["an unknown field", { query: "{ saes { idd } }" }, true],
  ["too deep", { query: `{ saes { ${deep(6)} } }` }, true],
  ["too costly", { query: `query($s: ID!) { features(saeId: $s, first: 500) { edges { node { id neighbors(k: 50) { cosine } } } } }`, variables: { s: "SAE_ID" } }, true],
  ["a variable of the wrong type", { query: "query($s: ID!) { sae(id: $s) { id } }", variables: { s: { x: 1 } } }, true],
  ["a missing variable", { query: "query($s: ID!) { sae(id: $s) { id } }" }, true],
  ["two operations, none chosen", { query: "query A { saes { id } } query B { models { id } }" }, true],
  ["an unknown operation name", { query: "query A { saes { id } }", operationName: "B" }, true],
  ["a resolver's user error", { query: `{ features(saeId: "no-such-sae", first: 1) { totalCount } }` }, true],
  ["an argument out of range", { query: `query($s: ID!) { features(saeId: $s, first: -1) { totalCount } }`, variables: { s: "SAE_ID" } }, true],
  ["a mutation without a key", { query: `mutation { deleteSae(id: "x") }` }, false],
];

describe("run-operation answers as Apollo Server does", () => {
  for (const [name, template, authenticated] of cases) {
    it(name, async () => {
      const request = JSON.parse(JSON.stringify(template).replaceAll("SAE_ID", saeId)) as OperationRequest;
      const caller = { authenticated, clientId: "test" };
      const viaApollo = await apollo.executeOperation(request, { contextValue: createContext(t.app, caller) });
      if (viaApollo.body.kind !== "single") throw new Error("expected a single result");
      const expected = JSON.parse(JSON.stringify(viaApollo.body.singleResult));
      const got = JSON.parse(JSON.stringify(await runOperation(createPipeline(t.app), request, createContext(t.app, caller))));
      expect(got).toEqual(expected);
      // The first three succeed; every other case is a refusal or an error, on both paths.
      expect(Boolean(expected.errors?.length), JSON.stringify(expected)).toBe(!["a plain read", "a read with variables", "introspection"].includes(name));
    });
  }

  it("sets the operation's name and type on the context, as the access log reads them", async () => {
    const ctx = createContext(t.app, { authenticated: true, clientId: "test" });
    await runOperation(createPipeline(t.app), { query: "query Named { saes { id } }" }, ctx);
    expect(ctx.request).toEqual({ operationName: "Named", operationType: "query" });
  });
});
