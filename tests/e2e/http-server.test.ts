// The HTTP server as clients see it: health, metrics, limits, auth, rate limit, CORS,
// caching, persisted queries, the NDJSON export and the access log.
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../src/app.ts";
import { silentLogger } from "../../src/logger.ts";
import { createTestDatabase, openTestApp, type TestApp } from "../helpers/backend.ts";
import { seedFeatures } from "../helpers/feature-seed.ts";
import { captureLogger, startTestServer, type TestServer } from "../helpers/http-server.ts";

let t: TestApp;
let s: TestServer;
let saeId: string;
const log = captureLogger();

beforeAll(async () => {
  t = await openTestApp({ MONOSCOPE_API_KEYS: "secret-one,secret-two" });
  ({ saeId } = await seedFeatures(t.app, { n: 25, saeId: "m/res/0" }));
  s = await startTestServer(t.app, {}, log);
});
afterAll(async () => {
  await s?.close();
  await t?.close();
});

const code = (json: any) => json?.errors?.[0]?.extensions?.code;

describe("operations", () => {
  it("answers /healthz and /readyz", async () => {
    expect(await (await fetch(`${s.url}/healthz`)).json()).toEqual({ status: "ok" });
    const r = await fetch(`${s.url}/readyz`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ status: "ready", database: t.db.backend });
  });

  it("is not ready while migrations are pending", async () => {
    const db = await createTestDatabase();
    const bare = await createApp(db.config, { memory: db.backend === "pglite", log: silentLogger, migrate: false });
    const server = await startTestServer(bare);
    try {
      const r = await fetch(`${server.url}/readyz`);
      expect(r.status).toBe(503);
      const body = (await r.json()) as { status: string; pending: string[] };
      expect(body.status).toBe("migrations pending");
      expect(body.pending.length).toBeGreaterThan(0);
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    } finally {
      await server.close();
      await bare.close();
      await db.drop();
    }
  });

  it("exports Prometheus metrics per operation name, errors and the database pool", async () => {
    // Operation names get their own label only from key holders (or the configured allow-list).
    const key = { authorization: "Bearer secret-one" };
    await s.post({ query: "query ProbeOp { models { id } }", operationName: "ProbeOp" }, key);
    await s.post({ query: "query BrokenOp { feature(saeId: \"nope\", index: 0) { topActivations(first: 0) { kind } } features(saeId: \"nope\") { totalCount } }" });
    const text = await (await fetch(`${s.url}/metrics`, { headers: key })).text();
    expect(text).toMatch(/monoscope_graphql_operations_total\{operation="ProbeOp",type="query",outcome="ok"\} 1/);
    expect(text).toMatch(/monoscope_graphql_operation_duration_seconds_count\{operation="ProbeOp",type="query"\} 1/);
    expect(text).toMatch(/monoscope_graphql_errors_total\{code="NOT_FOUND"\} \d+/);
    expect(text).toMatch(/monoscope_db_pool_connections\{state="total"\} \d+/);
    expect(text).toMatch(/monoscope_db_statements_total \d+/);
    expect(text).toMatch(/monoscope_http_requests_total\{route="\/graphql",method="POST",status="200"\}/);
  });

  it("exports what the decoder-matrix cache holds and how often it loaded", async () => {
    const metrics = async () => (await fetch(`${s.url}/metrics`, { headers: { authorization: "Bearer secret-one" } })).text();
    const value = (text: string, series: string) => {
      const line = text.split("\n").find((l) => l.startsWith(`${series} `));
      expect(line, series).toBeDefined();
      return Number(line!.slice(series.length + 1));
    };
    const nearest = () => s.post({ query: `{ nearestFeatures(saeId: "${saeId}", index: 3, k: 2, exact: true) { feature { index } } }` });
    expect((await nearest()).json.errors).toBeUndefined();
    const after = await metrics();
    const loads = value(after, "monoscope_matrix_cache_loads_total");
    expect(loads).toBeGreaterThanOrEqual(1);
    expect(value(after, "monoscope_matrix_cache_matrices")).toBeGreaterThanOrEqual(1);
    expect(value(after, 'monoscope_matrix_cache_bytes{kind="held"}')).toBeGreaterThan(0);
    expect(value(after, 'monoscope_matrix_cache_bytes{kind="budget"}')).toBeGreaterThan(value(after, 'monoscope_matrix_cache_bytes{kind="held"}'));
    // A second query on the same SAE is served from the cache: no load.
    expect((await nearest()).json.errors).toBeUndefined();
    expect(value(await metrics(), "monoscope_matrix_cache_loads_total")).toBe(loads);
  });

  it("writes one structured access-log line per request, without credentials", async () => {
    const before = log.lines.length;
    await s.post({ query: "query LogMe { models { id } }" }, { authorization: "Bearer secret-one" });
    const line = log.lines.slice(before).find((l) => l.msg === "request" && l.operation === "LogMe");
    expect(line).toMatchObject({ method: "POST", path: "/graphql", status: 200, operationType: "query" });
    expect(typeof line!.ms).toBe("number");
    expect(line!.client).toMatch(/^key:[0-9a-f]{12}$/);
    expect(JSON.stringify(log.lines)).not.toContain("secret-one");
  });
});

describe("query limits", () => {
  const nest = (depth: number) => "{ models { " + "saes { model { ".repeat(depth) + "id" + " } }".repeat(depth) + " } }";

  it("refuses queries deeper than the limit", async () => {
    const ok = await s.post({ query: nest(3) });
    expect(ok.json.errors).toBeUndefined();
    const deep = await s.post({ query: nest(6) }, { accept: "application/graphql-response+json" });
    expect(deep.status).toBe(400);
    expect(code(deep.json)).toBe("GRAPHQL_VALIDATION_FAILED");
    expect(deep.json.errors[0].message).toMatch(/depth limit of 10/);
  });

  it("refuses more aliases than the limit", async () => {
    const q = "{ " + Array.from({ length: 31 }, (_, i) => `a${i}: models { id }`).join(" ") + " }";
    const r = await s.post({ query: q });
    expect(code(r.json)).toBe("GRAPHQL_VALIDATION_FAILED");
    expect(r.json.errors[0].message).toMatch(/Aliases limit of 30/);
  });

  it("refuses queries above the cost limit", async () => {
    const cheap = await startTestServer(t.app, { maxCost: 50 });
    try {
      // 1 + 20 × (1 + (1 + 2)) = 81 > 50, whether the page size is a literal or a variable.
      const q = `query($n: Int) { features(saeId: "${saeId}", first: $n) { edges { node { id density } } } }`;
      const r = await cheap.post({ query: q, variables: { n: 20 } });
      expect(code(r.json)).toBe("GRAPHQL_VALIDATION_FAILED");
      expect(r.json.errors[0].message).toMatch(/query cost 81 exceeds the limit of 50/);
      expect((await cheap.post({ query: q, variables: { n: 10 } })).json.errors).toBeUndefined();
    } finally {
      await cheap.close();
    }
  });

  it("refuses page sizes and k above the configured maxima", async () => {
    const r = await s.post({ query: `{ features(saeId: "${saeId}", first: 5000) { totalCount } }` });
    expect(code(r.json)).toBe("BAD_USER_INPUT");
    expect(r.json.errors[0].message).toMatch(/first must be between 0 and 1000/);
  });

  it("refuses batched requests", async () => {
    const r = await s.post([{ query: "{ models { id } }" }, { query: "{ models { id } }" }]);
    expect(r.status).toBe(400);
    expect(code(r.json)).toBe("BAD_REQUEST");
  });
});

describe("auth", () => {
  const mutation = { query: `mutation { explainFeatures(saeId: "does-not-exist", limit: -5) { id } }` };

  it("refuses a mutation without a valid key before anything else happens", async () => {
    const statements = t.app.db.stats.statements;
    for (const headers of [{}, { authorization: "Bearer wrong" }, { authorization: "Basic secret-one" }] as Record<string, string>[]) {
      const r = await s.post(mutation, headers);
      expect(r.status).toBe(401);
      expect(code(r.json)).toBe("UNAUTHENTICATED");
      expect(r.headers.get("www-authenticate")).toMatch(/^Bearer/);
    }
    expect(t.app.db.stats.statements).toBe(statements);
  });

  it("lets a mutation with a valid key through to its resolver", async () => {
    const r = await s.post(mutation, { authorization: "Bearer secret-two" });
    expect(code(r.json)).not.toBe("UNAUTHENTICATED");
  });

  it("keeps reads open by default and closes them when configured", async () => {
    expect((await s.post({ query: "{ models { id } }" })).json.errors).toBeUndefined();
    const closed = await startTestServer(t.app, { readsRequireKey: true });
    try {
      const r = await closed.post({ query: "{ models { id } }" });
      expect(r.status).toBe(401);
      expect(code(r.json)).toBe("UNAUTHENTICATED");
      expect((await closed.post({ query: "{ models { id } }" }, { authorization: "Bearer secret-one" })).json.data.models).toHaveLength(1);
      expect((await fetch(`${closed.url}/export/${encodeURIComponent(saeId)}.ndjson`)).status).toBe(401);
    } finally {
      await closed.close();
    }
  });
});

describe("rate limit", () => {
  it("answers RATE_LIMITED (429) once a client exceeds its allowance, per client", async () => {
    const limited = await startTestServer(t.app, { rateLimitPerMinute: 3 });
    try {
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await limited.post({ query: "{ models { id } }" })).status);
      expect(statuses).toEqual([200, 200, 200, 429]);
      const r = await limited.post({ query: "{ models { id } }" });
      expect(code(r.json)).toBe("RATE_LIMITED");
      expect(Number(r.headers.get("retry-after"))).toBeGreaterThan(0);
      // A client with its own key has its own allowance; health probes are never limited.
      expect((await limited.post({ query: "{ models { id } }" }, { authorization: "Bearer secret-one" })).status).toBe(200);
      expect((await fetch(`${limited.url}/healthz`)).status).toBe(200);
    } finally {
      await limited.close();
    }
  });
});

describe("CORS", () => {
  it("allows configured origins only", async () => {
    const c = await startTestServer(t.app, { corsOrigins: ["http://dash.example"] });
    try {
      const pre = (origin: string) =>
        fetch(c.graphql, { method: "OPTIONS", headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type,authorization" } });
      const ok = await pre("http://dash.example");
      expect(ok.headers.get("access-control-allow-origin")).toBe("http://dash.example");
      expect(ok.headers.get("access-control-allow-headers")).toMatch(/authorization/);
      expect((await pre("http://evil.example")).headers.get("access-control-allow-origin")).toBeNull();
    } finally {
      await c.close();
    }
    const none = await fetch(s.graphql, { method: "POST", headers: { origin: "http://dash.example", "content-type": "application/json" }, body: '{"query":"{models{id}}"}' });
    expect(none.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("HTTP caching and persisted queries", () => {
  it("serves GET queries with an ETag and answers revalidation with 304", async () => {
    const url = `${s.graphql}?query=${encodeURIComponent(`{ feature(saeId: "${saeId}", index: 1) { id density } }`)}`;
    const first = await fetch(url);
    expect(first.status).toBe(200);
    const etag = first.headers.get("etag");
    expect(etag).toMatch(/^W\/".+"$/);
    expect(first.headers.get("cache-control")).toBe("public, max-age=0, must-revalidate");
    const again = await fetch(url, { headers: { "if-none-match": etag! } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
    // Errors are never cached.
    const bad = await fetch(`${s.graphql}?query=${encodeURIComponent('{ features(saeId: "nope") { totalCount } }')}`);
    expect(bad.headers.get("etag")).toBeNull();
  });

  it("refuses mutations over GET", async () => {
    const r = await fetch(`${s.graphql}?query=${encodeURIComponent("mutation { cancelJob(id: \"x\") { id } }")}`, { headers: { authorization: "Bearer secret-one" } });
    expect(r.status).toBe(405);
  });

  it("supports automatic persisted queries", async () => {
    const query = `{ feature(saeId: "${saeId}", index: 2) { id } }`;
    const sha256Hash = createHash("sha256").update(query).digest("hex");
    const extensions = { persistedQuery: { version: 1, sha256Hash } };
    const miss = await s.post({ extensions });
    expect(code(miss.json)).toBe("PERSISTED_QUERY_NOT_FOUND");
    const register = await s.post({ query, extensions });
    expect(register.json.data.feature.id).toBe(`${saeId}:2`);
    const hit = await fetch(`${s.graphql}?extensions=${encodeURIComponent(JSON.stringify(extensions))}`);
    expect(((await hit.json()) as any).data.feature.id).toBe(`${saeId}:2`);
  });
});

describe("NDJSON export", () => {
  it("streams every feature of an SAE as one JSON line each", async () => {
    const r = await fetch(`${s.url}/export/${encodeURIComponent(saeId)}.ndjson`);
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toMatch(/^application\/x-ndjson/);
    const lines = (await r.text()).trim().split("\n").map((l) => JSON.parse(l));
    expect(lines).toHaveLength(25);
    expect(lines.map((l) => l.index)).toEqual(Array.from({ length: 25 }, (_, i) => i));
    expect(lines[4]).toMatchObject({ index: 4, x: 2, y: -1, density: expect.any(Number), maxActivation: expect.any(Number) });
    expect(lines[4]).toHaveProperty("label");
  });

  it("answers 404 for an unknown SAE", async () => {
    const r = await fetch(`${s.url}/export/${encodeURIComponent("no/such/sae")}.ndjson`);
    expect(r.status).toBe(404);
    expect(code(await r.json())).toBe("NOT_FOUND");
  });

  it("pages through SAEs larger than one page", async () => {
    const small = await startTestServer(t.app, { maxPageSize: 7 });
    try {
      const text = await (await fetch(`${small.url}/export/${encodeURIComponent(saeId)}.ndjson`)).text();
      expect(text.trim().split("\n")).toHaveLength(25);
    } finally {
      await small.close();
    }
  });
});

describe("errors", () => {
  it("answers malformed requests with 4xx and no internals", async () => {
    const r = await fetch(s.graphql, { method: "POST", headers: { "content-type": "application/json" }, body: "{not json" });
    expect(r.status).toBe(400);
    const body = await r.text();
    expect(body).not.toMatch(/at .*\.(ts|js):\d+/);
    const unknown = await fetch(`${s.url}/nope`);
    expect(unknown.status).toBe(404);
  });
});
