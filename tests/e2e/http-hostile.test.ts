// What a hostile client sends over HTTP and what it must get back: a 4xx with a
// proper code, never INTERNAL_SERVER_ERROR, a stack trace in the log, or a request
// that holds the server (cost with variable defaults, NUL bytes, deep nesting,
// subscriptions, APQ mismatches, export URL tricks, slow bodies, metrics, Vary).
import { createHash } from "node:crypto";
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTestApp, type TestApp } from "../helpers/backend.ts";
import { seedFeatures } from "../helpers/feature-seed.ts";
import { captureLogger, startTestServer, type TestServer } from "../helpers/http-server.ts";

let t: TestApp;
let s: TestServer;
const saeId = "m/res/0";
const KEY = "hostile-test-key";
const log = captureLogger();

beforeAll(async () => {
  t = await openTestApp({ MONOSCOPE_API_KEYS: KEY });
  await seedFeatures(t.app, { n: 25, saeId });
  await seedFeatures(t.app, { n: 5, saeId: "m/other", modelId: "m" });
  s = await startTestServer(t.app, { rateLimitPerMinute: 0 }, log);
});
afterAll(async () => {
  await s?.close();
  await t?.close();
});

const code = (json: any) => json?.errors?.[0]?.extensions?.code;
const internalLogged = () => log.lines.filter((l) => l.level === "error");

describe("cost limit", () => {
  it("counts an operation's own variable defaults like variables sent", async () => {
    const q = `query($n: Int = 1000) { nearestFeatures(saeId: "${saeId}", index: 1, k: $n) { feature { neighbors(k: $n) { feature { id } } } } }`;
    const sent = await s.post({ query: q, variables: { n: 1000 } });
    expect(code(sent.json)).toBe("GRAPHQL_VALIDATION_FAILED");
    const defaulted = await s.post({ query: q });
    expect(defaulted.json.data).toBeUndefined();
    expect(code(defaulted.json)).toBe("GRAPHQL_VALIDATION_FAILED");
    expect(defaulted.json.errors[0].message).toMatch(/query cost \d+ exceeds the limit of 50000/);
    // An explicit variable still wins over the default.
    const small = await s.post({ query: q, variables: { n: 2 } });
    expect(small.json.errors).toBeUndefined();
    expect(small.json.data.nearestFeatures).toHaveLength(2);
  });
});

describe("NUL bytes in string arguments", () => {
  const cases: [string, string, Record<string, unknown>?][] = [
    ["searchConcepts literal", `{ searchConcepts(query: "a\\u0000b") { score } }`],
    ["searchConcepts variable", `query($q: String!) { searchConcepts(query: $q) { score } }`, { q: "x\u0000" }],
    ["searchConcepts filter", `query($l: String) { searchConcepts(query: "x", labelMethod: $l, familyId: "f") { score } }`, { l: "\u0000" }],
    ["sae", `query($id: ID!) { sae(id: $id) { id } }`, { id: "m/res/0\u0000" }],
    ["feature", `{ feature(saeId: "m\\u0000", index: 1) { id } }`],
    ["features", `query($id: ID!) { features(saeId: $id) { totalCount } }`, { id: "\u0000" }],
    ["features cursor", `query($a: String) { features(saeId: "${saeId}", after: $a) { totalCount } }`, { a: "abc\u0000" }],
    ["saes(familyId)", `{ saes(familyId: "\\u0000") { id } }`],
    ["jobs(kind)", `{ jobs(kind: "explain\\u0000") { id } }`],
    ["splitLineage", `query($id: ID!) { splitLineage(saeId: $id, index: 0) { cosine } }`, { id: "a\u0000" }],
    ["nearestToVector saeIds", `query($ids: [ID!]!) { nearestToVector(vector: [1], saeIds: $ids) { cosine } }`, { ids: ["ok", "x\u0000"] }],
  ];
  it.each(cases)("%s is BAD_USER_INPUT naming the argument", async (_name, query, variables) => {
    const before = internalLogged().length;
    const r = await s.post({ query, variables });
    expect(code(r.json)).toBe("BAD_USER_INPUT");
    expect(r.json.errors[0].message).toMatch(/NUL/);
    expect(r.json.errors[0].message).not.toMatch(/\u0000/);
    expect(r.json.errors[0].extensions.stacktrace).toBeUndefined();
    expect(internalLogged().length).toBe(before);
  });

  it("refuses a NUL in an export id", async () => {
    const r = await fetch(`${s.url}/export/m%2Fres%2F0%00.ndjson`);
    expect(r.status).toBe(400);
    expect(code(await r.json())).toBe("BAD_USER_INPUT");
  });
});

describe("nesting", () => {
  it("refuses a list literal nested 3,000 deep as a parse error", async () => {
    const deep = "[".repeat(3000) + "1" + "]".repeat(3000);
    const r = await s.post({ query: `{ nearestToVector(vector: ${deep}, saeIds: ["x"]) { cosine } }` }, { accept: "application/graphql-response+json" });
    expect(r.status).toBe(400);
    expect(code(r.json)).toBe("GRAPHQL_PARSE_FAILED");
    expect(r.json.errors[0].message).toMatch(/nested/);
  });

  it("refuses a selection set nested 4,000 deep, over POST and GET", async () => {
    const q = "{ models " + "{ saes ".repeat(4000) + "{ id }" + " }".repeat(4001);
    const r = await s.post({ query: q });
    expect(r.status).toBeLessThan(500);
    expect(code(r.json)).toBe("GRAPHQL_PARSE_FAILED");
    // Within Node's 16 KiB header limit, so the server itself has to refuse it.
    const get = "{models" + "{saes".repeat(1500) + "{id}" + "}".repeat(1501);
    const g = await fetch(`${s.graphql}?query=${encodeURIComponent(get)}`);
    expect(g.status).toBeLessThan(500);
    expect(code(await g.json())).toBe("GRAPHQL_PARSE_FAILED");
  });

  it("answers variables nested 100,000 deep with 4xx", async () => {
    const deep = "[".repeat(100_000) + "1" + "]".repeat(100_000);
    const body = `{"query":"query($v: [Float!]!) { nearestToVector(vector: $v, saeIds: [\\"${saeId}\\"]) { cosine } }","variables":{"v":${deep}}}`;
    const r = await fetch(s.graphql, { method: "POST", headers: { "content-type": "application/json" }, body });
    expect(r.status).toBeGreaterThanOrEqual(200);
    expect(r.status).toBeLessThan(500);
    const json = (await r.json()) as any;
    expect(json.errors?.[0]?.extensions?.code).toMatch(/BAD_USER_INPUT|BAD_REQUEST/);
  });

  it("ignores brackets inside strings and comments", async () => {
    const r = await s.post({ query: `{ saes(familyId: "${"[".repeat(500)}") { id } # ${"{".repeat(500)}\n}` });
    expect(r.json.errors).toBeUndefined();
    expect(r.json.data.saes).toEqual([]);
  });
});

describe("operation types and persisted queries", () => {
  it("answers a subscription with a proper code, with and without a key", async () => {
    const anon = await s.post({ query: "subscription { models { id } }" });
    expect(code(anon.json)).toBe("UNAUTHENTICATED");
    const keyed = await s.post({ query: "subscription { models { id } }" }, { authorization: `Bearer ${KEY}`, accept: "application/graphql-response+json" });
    expect(keyed.status).toBe(400);
    expect(code(keyed.json)).toBe("GRAPHQL_VALIDATION_FAILED");
    expect(keyed.json.errors[0].message).toMatch(/subscription/);
  });

  it("answers an APQ hash that does not match its query with 400 BAD_REQUEST", async () => {
    const query = "{ models { id } }";
    const wrong = createHash("sha256").update("something else").digest("hex");
    const r = await s.post({ query, extensions: { persistedQuery: { version: 1, sha256Hash: wrong } } }, { accept: "application/graphql-response+json" });
    expect(r.status).toBe(400);
    expect(code(r.json)).toBe("BAD_REQUEST");
    const v2 = await s.post({ query, extensions: { persistedQuery: { version: 2, sha256Hash: wrong } } });
    expect(v2.status).toBe(400);
    expect(code(v2.json)).toBe("BAD_REQUEST");
  });
});

describe("NDJSON export URLs", () => {
  it("decodes the id once: %252F is a literal %2F, not a slash", async () => {
    const r = await fetch(`${s.url}/export/m%252Fother.ndjson`);
    expect(r.status).toBe(404);
    const body = (await r.json()) as any;
    expect(body.errors[0].message).toContain("m%2Fother");
  });

  it("answers a bare % with 4xx, not a URIError", async () => {
    const r = await fetch(`${s.url}/export/m%25.ndjson`);
    expect(r.status).toBe(404);
    expect(code(await r.json())).toBe("NOT_FOUND");
  });

  it("does not echo an 8,000-character id back over GraphQL either", async () => {
    const r = await s.post({ query: `query($id: ID!) { features(saeId: $id) { totalCount } }`, variables: { id: "b".repeat(8000) } });
    expect(code(r.json)).toBe("NOT_FOUND");
    expect(r.json.errors[0].message.length).toBeLessThan(600);
  });

  it("does not echo an 8,000-character id back", async () => {
    const r = await fetch(`${s.url}/export/${"a".repeat(8000)}.ndjson`);
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.status).toBeLessThan(500);
    expect((await r.text()).length).toBeLessThan(600);
  });
});

describe("slow clients", () => {
  it("cuts a connection that sends its declared body one byte at a time", async () => {
    const slow = await startTestServer(t.app, { bodyTimeoutMs: 1000, requestTimeoutMs: 5000, keepAliveTimeoutMs: 1000 });
    try {
      const { port } = new URL(slow.url);
      const started = Date.now();
      const closedAfter = await new Promise<number>((resolve, reject) => {
        const sock = connect(Number(port), "127.0.0.1");
        let timer: NodeJS.Timeout | undefined;
        sock.on("connect", () => {
          sock.write("POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{");
          timer = setInterval(() => sock.write(" "), 300);
        });
        sock.on("data", () => {});
        sock.on("error", () => {});
        sock.on("close", () => {
          clearInterval(timer);
          resolve(Date.now() - started);
        });
        setTimeout(() => {
          clearInterval(timer);
          sock.destroy();
          reject(new Error("connection still open after 8 s"));
        }, 8000);
      });
      expect(closedAfter).toBeLessThan(4000);
    } finally {
      await slow.close();
    }
  });

  it("answers 503 REQUEST_TIMEOUT when a request is not answered within the request timeout, and keeps serving", async () => {
    // The body arrives within the body timeout but the whole request outlasts the request timeout
    // (an in-process database answers too quickly to make an operation itself this slow).
    const quick = await startTestServer(t.app, { requestTimeoutMs: 300, bodyTimeoutMs: 5000 });
    try {
      const { port } = new URL(quick.url);
      const answer = await new Promise<string>((resolve, reject) => {
        const sock = connect(Number(port), "127.0.0.1");
        let got = "";
        const body = JSON.stringify({ query: "{ models { id } }" });
        sock.on("connect", () => {
          sock.write(`POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 5)}`);
          setTimeout(() => sock.write(body.slice(5)), 800);
        });
        sock.on("data", (d) => {
          got += d.toString();
          if (got.includes("\r\n\r\n{")) resolve(got);
        });
        sock.on("error", () => {});
        sock.on("close", () => resolve(got));
        setTimeout(() => reject(new Error("no answer after 4 s")), 4000);
      });
      expect(answer).toMatch(/^HTTP\/1\.1 503/);
      expect(answer).toContain('"code":"REQUEST_TIMEOUT"');
    } finally {
      await quick.close();
    }
    expect((await s.post({ query: "{ models { id } }" })).status).toBe(200);
  });

  it("closes idle keep-alive connections after the keep-alive timeout", async () => {
    const idle = await startTestServer(t.app, { keepAliveTimeoutMs: 500 });
    try {
      const { port } = new URL(idle.url);
      const closedAfter = await new Promise<number>((resolve, reject) => {
        const sock = connect(Number(port), "127.0.0.1");
        let answeredAt = 0;
        sock.on("connect", () => sock.write("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
        sock.on("data", () => (answeredAt ||= Date.now()));
        sock.on("close", () => resolve(Date.now() - answeredAt));
        setTimeout(() => {
          sock.destroy();
          reject(new Error("keep-alive connection still open after 5 s"));
        }, 5000);
      });
      expect(closedAfter).toBeLessThan(2500);
    } finally {
      await idle.close();
    }
  });
});

describe("metrics", () => {
  it("needs a key when API keys are configured, and shows no runtime versions", async () => {
    const anon = await fetch(`${s.url}/metrics`);
    expect(anon.status).toBe(401);
    expect(anon.headers.get("www-authenticate")).toMatch(/^Bearer/);
    const keyed = await fetch(`${s.url}/metrics`, { headers: { authorization: `Bearer ${KEY}` } });
    expect(keyed.status).toBe(200);
    const text = await keyed.text();
    expect(text).toMatch(/monoscope_graphql_operations_total/);
    expect(text).not.toMatch(/version_info|process\.version|v\d+\.\d+\.\d+/);
    const open = await startTestServer(t.app, { metricsRequireKey: false });
    try {
      expect((await fetch(`${open.url}/metrics`)).status).toBe(200);
    } finally {
      await open.close();
    }
  });

  it("cannot be pushed off a dashboard's operation name by junk names", async () => {
    const m = await startTestServer(t.app, { rateLimitPerMinute: 0, metricsOperations: ["DashboardFeatures"] });
    try {
      for (let i = 0; i < 260; i++) await m.post({ query: `query Junk${i} { models { id } }` });
      await m.post({ query: "query DashboardFeatures { models { id } }" });
      await m.post({ query: "query KeyedOp { models { id } }" }, { authorization: `Bearer ${KEY}` });
      const text = await (await fetch(`${m.url}/metrics`, { headers: { authorization: `Bearer ${KEY}` } })).text();
      expect(text).toMatch(/monoscope_graphql_operations_total\{operation="DashboardFeatures",type="query",outcome="ok"\} 1/);
      expect(text).not.toMatch(/operation="Junk\d+"/);
      expect(text).toMatch(/operation="other",type="query",outcome="ok"\} 2\d\d/);
      // A caller holding a key is trusted to name its operations.
      expect(text).toMatch(/operation="KeyedOp",type="query",outcome="ok"\} 1/);
    } finally {
      await m.close();
    }
  });
});

describe("CORS and caching", () => {
  it("keeps Vary: Origin on GET query responses", async () => {
    const c = await startTestServer(t.app, { corsOrigins: ["http://dash.example"] });
    try {
      const r = await fetch(`${c.graphql}?query=${encodeURIComponent("{ models { id } }")}`, { headers: { origin: "http://dash.example" } });
      expect(r.status).toBe(200);
      expect(r.headers.get("access-control-allow-origin")).toBe("http://dash.example");
      const vary = (r.headers.get("vary") ?? "").toLowerCase().split(/\s*,\s*/);
      expect(vary).toEqual(expect.arrayContaining(["origin", "accept", "authorization"]));
      expect(new Set(vary).size).toBe(vary.length);
    } finally {
      await c.close();
    }
  });
});

it("logged no internal error for any of the above", () => {
  expect(internalLogged()).toEqual([]);
});
