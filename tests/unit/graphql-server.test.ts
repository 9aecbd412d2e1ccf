// Pure pieces of the API server: error masking, API-key identification, the rate
// limiter, query cost, page cursors and dashboard JSON parsing.
import { GraphQLError, buildSchema, parse, type OperationDefinitionNode } from "graphql";
import { describe, expect, it } from "vitest";
import { AppError, ErrorCode } from "../../src/errors.ts";
import { identifyCaller } from "../../src/graphql/auth.ts";
import { operationCost } from "../../src/graphql/cost.ts";
import { createFormatError } from "../../src/graphql/errors.ts";
import { RateLimiter } from "../../src/graphql/rate-limit.ts";
import { decodeCursor, encodeCursor } from "../../src/modules/feature/feature.cursor.ts";
import { parseHistogram, parseTokenValues } from "../../src/modules/feature/feature.dashboard.ts";

const logged: unknown[] = [];
const log = { debug() {}, info() {}, warn() {}, error: (m: string, f?: unknown) => void logged.push([m, f]) };
const located = (original: Error) => new GraphQLError(original.message, { path: ["feature"], originalError: original });

describe("error boundary", () => {
  const prod = createFormatError({ development: false, log });
  const dev = createFormatError({ development: true, log });

  it("keeps an AppError's code and message", () => {
    const e = new AppError(ErrorCode.NOT_FOUND, "SAE \"x\" not found");
    expect(prod({ message: e.message, path: ["feature"], extensions: { code: "INTERNAL_SERVER_ERROR" } }, located(e))).toEqual({
      message: 'SAE "x" not found',
      path: ["feature"],
      locations: undefined,
      extensions: { code: "NOT_FOUND" },
    });
  });

  it("hides unexpected errors (SQL, stacks) outside development and logs them", () => {
    const e = new Error('relation "feature" does not exist: SELECT * FROM feature WHERE password=\'x\'');
    const out = prod({ message: e.message, path: ["feature"], extensions: { code: "INTERNAL_SERVER_ERROR", stacktrace: ["at x"] } }, located(e));
    expect(out).toEqual({ message: "Internal server error", path: ["feature"], locations: undefined, extensions: { code: "INTERNAL_SERVER_ERROR" } });
    expect(JSON.stringify(logged.at(-1))).toContain("relation");
    const d = dev({ message: e.message, extensions: { code: "INTERNAL_SERVER_ERROR" } }, located(e));
    expect(d.message).toContain("relation");
    expect(d.extensions?.stacktrace).toBeDefined();
  });

  it("passes deliberate GraphQL errors with their code and without stacks", () => {
    const e = new GraphQLError("Syntax Error: Query depth limit of 10 exceeded", { extensions: { code: "GRAPHQL_VALIDATION_FAILED" } });
    expect(prod({ message: e.message, extensions: { code: "GRAPHQL_VALIDATION_FAILED", stacktrace: ["x"] } }, e).extensions).toEqual({
      code: "GRAPHQL_VALIDATION_FAILED",
    });
  });

  it("redacts credentials in messages", () => {
    const e = new AppError(ErrorCode.BAD_USER_INPUT, "cannot use postgresql://me:hunter2@db/x");
    expect(prod({ message: e.message }, located(e)).message).toBe("cannot use postgresql://me:***@db/x");
  });
});

describe("identifyCaller", () => {
  const server = (apiKeys: string[]) => ({ apiKeys }) as never;
  it("authenticates a listed bearer key and names the client by its fingerprint", () => {
    const c = identifyCaller(server(["k1", "k2"]), "Bearer k2", "1.2.3.4");
    expect(c.authenticated).toBe(true);
    expect(c.clientId).toMatch(/^key:[0-9a-f]{12}$/);
    expect(c.clientId).not.toContain("k2");
  });
  it("does not authenticate a missing or wrong key when keys are configured", () => {
    expect(identifyCaller(server(["k1"]), undefined, "1.2.3.4")).toEqual({ authenticated: false, clientId: "ip:1.2.3.4" });
    expect(identifyCaller(server(["k1"]), "Bearer nope", "1.2.3.4").authenticated).toBe(false);
    expect(identifyCaller(server(["k1"]), "k1", "1.2.3.4").authenticated).toBe(false);
  });
  it("treats everyone as authenticated when no keys are configured", () => {
    expect(identifyCaller(server([]), undefined, "::1").authenticated).toBe(true);
  });
});

describe("RateLimiter", () => {
  it("allows a minute's allowance, then refuses until tokens refill, per client", () => {
    let now = 0;
    const r = new RateLimiter(60, () => now);
    for (let i = 0; i < 60; i++) expect(r.take("a").ok).toBe(true);
    const refused = r.take("a");
    expect(refused.ok).toBe(false);
    expect(refused.retryAfter).toBe(1);
    expect(r.take("b").ok).toBe(true);
    now += 1000;
    expect(r.take("a").ok).toBe(true);
    expect(r.take("a").ok).toBe(false);
  });
  it("is off at 0", () => {
    const r = new RateLimiter(0);
    for (let i = 0; i < 1000; i++) expect(r.take("a").ok).toBe(true);
  });
});

describe("operationCost", () => {
  const schema = buildSchema(`
    type Query { items(first: Int = 50): [Item!]! near(k: Int = 10): [Item!]! one: Item }
    type Item { id: ID! tags(first: Int = 5): [String!]! children(first: Int = 3): [Item!]! }`);
  const cost = (q: string, variables: Record<string, unknown> = {}) => {
    const doc = parse(q);
    const op = doc.definitions.find((d) => d.kind === "OperationDefinition") as OperationDefinitionNode;
    const fragments = Object.fromEntries(doc.definitions.filter((d) => d.kind === "FragmentDefinition").map((d: any) => [d.name.value, d]));
    return operationCost(schema, schema.getQueryType()!, op.selectionSet, fragments, variables);
  };
  it("multiplies by first/k given as literals, variables or defaults", () => {
    expect(cost("{ one { id } }")).toBe(2);
    expect(cost("{ items(first: 10) { id } }")).toBe(11);
    expect(cost("query($n: Int) { items(first: $n) { id } }", { n: 100 })).toBe(101);
    expect(cost("{ items { id } }")).toBe(51);
    expect(cost("{ near { id children { id } } }")).toBe(1 + 10 * (1 + 1 + 3 * 1));
  });
  it("counts fragments", () => {
    expect(cost("{ items(first: 2) { ...F } } fragment F on Item { id children(first: 4) { id } }")).toBe(1 + 2 * (1 + 1 + 4));
    expect(cost("{ __schema { types { name } } }")).toBe(0);
  });
});

describe("feature cursors", () => {
  it("round-trips and is tied to its ordering", () => {
    const c = encodeCursor("DENSITY_DESC", { index: 7, density: 0.25, maxActivation: 3 });
    expect(decodeCursor("DENSITY_DESC", c)).toEqual({ value: 0.25, index: 7 });
    expect(() => decodeCursor("INDEX", c)).toThrow(/belongs to orderBy DENSITY_DESC/);
    expect(() => decodeCursor("INDEX", "bm9wZQ")).toThrow(/not a cursor/);
  });
});

describe("dashboard JSON", () => {
  it("reads the layouts importers write", () => {
    expect(parseTokenValues({ tokens: ["a", "b"], values: [1, 2] })).toEqual([{ token: "a", value: 1 }, { token: "b", value: 2 }]);
    expect(parseTokenValues({ str: ["a"], values: [1] })).toEqual([{ token: "a", value: 1 }]);
    expect(parseTokenValues([["a", 1]])).toEqual([{ token: "a", value: 1 }]);
    expect(parseTokenValues([{ token: "a", value: 1 }])).toEqual([{ token: "a", value: 1 }]);
    expect(parseTokenValues({ tokens: ["a"], values: [1, 2] })).toBeNull();
    expect(parseHistogram({ bar_heights: [1, 2], bar_values: [0.1, 0.2] })).toEqual({ values: [0.1, 0.2], heights: [1, 2] });
    expect(parseHistogram([1, 2])).toBeNull();
  });
});
