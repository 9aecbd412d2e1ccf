// Sends hostile requests to a running server and checks what must hold for every one of
// them: no 5xx, no INTERNAL_SERVER_ERROR, a JSON answer within the time bound, the
// server's RSS within its bound, and (without a key) no mutation executed.
import { CaseBuilder, seededDraw, type HostileCase, loadSchema, schemaCoordinates, type ValidValues } from "./hostile-graphql.ts";

export interface CampaignOptions {
  graphql: string;
  /** The API key to send, or null (phase one: every mutation must be refused). */
  key: string | null;
  /** Bound on each answer, in ms. */
  maxMs: number;
  /** The server's RSS in bytes (sampled after each answer) and its bound. */
  rss: () => number;
  maxRssBytes: number;
  concurrency?: number;
}

export interface CampaignReport {
  requests: number;
  internalErrors: number;
  problems: string[];
  slowestMs: number;
  slowest: string;
  peakRssBytes: number;
  statuses: Record<number, number>;
  codes: Record<string, number>;
  sentFields: Set<string>;
  sentArgs: Set<string>;
  /** Arguments whose hostile value reached execution (the answer has data). */
  executedArgs: Set<string>;
}

/** The HTTP server's body limit (src/graphql/http.ts). */
const BODY_LIMIT = 10 * 1024 * 1024;

/** Errors that refuse a request before any resolver runs. */
const REFUSALS = new Set(["UNAUTHENTICATED", "GRAPHQL_PARSE_FAILED", "GRAPHQL_VALIDATION_FAILED", "BAD_REQUEST", "PERSISTED_QUERY_NOT_FOUND", "OPERATION_RESOLUTION_FAILURE"]);

export interface RawRequest extends Pick<HostileCase, "name" | "operation" | "body"> {
  fields?: string[];
  args?: string[];
  method?: "GET" | "POST";
  contentType?: string;
}

/** The seeded campaign, generated as it is sent: the sweep of every coordinate, `random` random cases, the hostile shapes. */
export function* campaignCases(valid: ValidValues, o: { seed: number; random: number; perArg: number; maxDepth: number }): Generator<RawRequest> {
  const builder = new CaseBuilder(loadSchema(), valid);
  const g = seededDraw(o.seed);
  yield* builder.sweep(g, o.perArg);
  for (let i = 0; i < o.random; i++) yield builder.random(g, o.maxDepth);
  yield* hostileShapes();
}

/** Requests whose shape, not their values, is the attack. */
export function hostileShapes(): RawRequest[] {
  const q = (name: string, query: string, extra: Record<string, unknown> = {}, operation: RawRequest["operation"] = "query"): RawRequest => ({
    name,
    operation,
    body: JSON.stringify({ query, ...extra }),
  });
  const nested = (n: number, open: string, close: string, inner: string) => open.repeat(n) + inner + close.repeat(n);
  return [
    q("list literal nested 3,000 deep", `{ nearestToVector(vector: ${nested(3000, "[", "]", "0")}, saeIds: ["x"]) { cosine } }`),
    q("selection set nested 4,000 deep", `{ models ${nested(4000, "{ saes ", "}", "{ id }")} }`),
    q("selection beyond the depth limit", `{ feature(saeId: "x", index: 0) ${nested(14, "{ neighbors { feature ", "} }", "{ id }")} }`),
    q("introspection nested deep", `{ __schema { types ${nested(40, "{ fields { type ", "} }", "{ name }")} } }`),
    q("subscription", "subscription { models { id } }", {}, "other"),
    q("mutation chosen by operationName", 'query A { models { id } } mutation B { deleteSae(id: "hm/res/0") }', { operationName: "B" }, "mutation"),
    q("mutation through a fragment", 'fragment F on Mutation { deleteSae(id: "hm/res/0") } mutation { ...F }', {}, "mutation"),
    q("two anonymous operations", '{ models { id } } mutation { deleteSae(id: "hm/res/0") }', {}, "other"),
    q("unknown operationName", "query A { models { id } }", { operationName: "Z" }),
    q("fragment cycle", "fragment A on Query { ...B } fragment B on Query { ...A } { ...A }"),
    q("1,000 aliases", `{ ${Array.from({ length: 1000 }, (_, i) => `a${i}: models { id }`).join(" ")} }`),
    q("20,000 repeated fields", `{ models { ${"id ".repeat(20_000)}} }`),
    q("10,000 directives", `{ models ${"@skip(if: false) ".repeat(10_000)}{ id } }`),
    q("undeclared variable", "{ sae(id: $nope) { id } }"),
    q("a 1 MB field name", `{ ${"f".repeat(1 << 20)} }`),
    q("100,000 variables", "{ models { id } }", { variables: Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`v${i}`, i])) }),
    q("APQ hash that does not match", "{ models { id } }", { extensions: { persistedQuery: { version: 1, sha256Hash: "0".repeat(64) } } }),
    q("APQ hash alone", "", { extensions: { persistedQuery: { version: 1, sha256Hash: "f".repeat(64) } } }),
    q("APQ with a bad version", "{ models { id } }", { extensions: { persistedQuery: { version: 99, sha256Hash: "x" } } }),
    { name: "query is a number", operation: "other", body: '{"query": 5}' },
    { name: "query is null", operation: "other", body: '{"query": null}' },
    { name: "variables is a string", operation: "query", body: '{"query": "{ models { id } }", "variables": "x"}' },
    { name: "variables is an array", operation: "query", body: '{"query": "{ models { id } }", "variables": [1]}' },
    { name: "batched body", operation: "other", body: JSON.stringify(Array.from({ length: 100 }, () => ({ query: "{ models { id } }" }))) },
    { name: "body is null", operation: "other", body: "null" },
    { name: "empty body", operation: "other", body: "" },
    { name: "truncated JSON", operation: "other", body: '{"query": "{ models' },
    { name: "JSON number overflow", operation: "query", body: '{"query": "query($x: Float) { nearestToVector(vector: [$x], saeIds: [\\"hm/fam/32\\"]) { cosine } }", "variables": {"x": 1e999}}' },
    { name: "body over the size limit", operation: "other", body: JSON.stringify({ query: "{ models { id } }", pad: "x".repeat(11 << 20) }) },
    { name: "wrong content type", operation: "other", body: "{ models { id } }", contentType: "text/plain" },
    { name: "GET mutation", operation: "mutation", body: JSON.stringify({ query: 'mutation { deleteSae(id: "hm/res/0") }' }), method: "GET" },
    { name: "GET with a NUL", operation: "query", body: JSON.stringify({ query: '{ sae(id: "a\\u0000") { id } }' }), method: "GET" },
  ];
}

export async function runCampaign(cases: Iterable<RawRequest>, o: CampaignOptions): Promise<CampaignReport> {
  const r: CampaignReport = {
    requests: 0,
    internalErrors: 0,
    problems: [],
    slowestMs: 0,
    slowest: "",
    peakRssBytes: 0,
    statuses: {},
    codes: {},
    sentFields: new Set(),
    sentArgs: new Set(),
    executedArgs: new Set(),
  };
  const problem = (c: RawRequest, what: string) => {
    if (r.problems.length < 200) r.problems.push(`${c.name}: ${what} (request ${describe(c.body)})`);
  };
  const queue = cases[Symbol.iterator]();
  const worker = async () => {
    for (let step = queue.next(); !step.done; step = queue.next()) {
      const c = step.value;
      for (const f of c.fields ?? []) r.sentFields.add(f);
      for (const a of c.args ?? []) r.sentArgs.add(a);
      const headers: Record<string, string> = { "content-type": c.contentType ?? "application/json", accept: "application/graphql-response+json, application/json" };
      if (o.key) headers.authorization = `Bearer ${o.key}`;
      let url = o.graphql;
      let init: RequestInit = { method: "POST", headers, body: c.body };
      if (c.method === "GET") {
        const b = JSON.parse(c.body) as Record<string, unknown>;
        url += "?" + new URLSearchParams(Object.entries(b).map(([k, v]): [string, string] => [k, typeof v === "string" ? v : JSON.stringify(v)])).toString();
        init = { method: "GET", headers };
      }
      const t0 = performance.now();
      let status = 0;
      let text = "";
      try {
        const res = await fetch(url, { ...init, signal: AbortSignal.timeout(o.maxMs * 2) });
        status = res.status;
        text = await res.text();
      } catch (e) {
        // A body over the server's limit is refused with 413 and the connection closed, often
        // while the client is still writing it (EPIPE, ECONNRESET): refused, as it should be.
        if (c.body.length > BODY_LIMIT) {
          r.statuses[413] = (r.statuses[413] ?? 0) + 1;
          r.requests++;
          continue;
        }
        const cause = (e as Error & { cause?: { code?: string; message?: string } }).cause;
        problem(c, `no answer after ${Math.round(performance.now() - t0)} ms: ${(e as Error).message} (${cause?.code ?? cause?.message ?? "?"}; body ${c.body.length} bytes)`);
      }
      const ms = performance.now() - t0;
      r.requests++;
      r.statuses[status] = (r.statuses[status] ?? 0) + 1;
      if (ms > r.slowestMs) [r.slowestMs, r.slowest] = [ms, c.name];
      if (ms > o.maxMs) problem(c, `answered in ${Math.round(ms)} ms (bound ${o.maxMs})`);
      const rss = o.rss();
      r.peakRssBytes = Math.max(r.peakRssBytes, rss);
      if (rss > o.maxRssBytes) problem(c, `server RSS ${Math.round(rss / 2 ** 20)} MiB over the bound of ${Math.round(o.maxRssBytes / 2 ** 20)} MiB`);
      if (status === 0) continue;
      let body: { data?: Record<string, unknown> | null; errors?: { message: string; path?: unknown; extensions?: { code?: string } }[] } | null = null;
      try {
        body = JSON.parse(text);
      } catch {
        if (status !== 304) problem(c, `status ${status} with a body that is not JSON: ${text.slice(0, 200)}`);
      }
      const codes = (body?.errors ?? []).map((e) => e.extensions?.code ?? "(none)");
      for (const code of codes) r.codes[code] = (r.codes[code] ?? 0) + 1;
      if (status >= 500 || codes.includes("INTERNAL_SERVER_ERROR")) {
        r.internalErrors++;
        problem(c, `status ${status}: ${JSON.stringify(body?.errors?.slice(0, 2) ?? text.slice(0, 200))}`);
      }
      // Execution started when there is data, or an error that a resolver raised (it has a path).
      const hasData = !!body && typeof body.data === "object" && body.data !== null;
      const executed = hasData || (body?.errors ?? []).some((e) => Array.isArray((e as { path?: unknown }).path));
      if (executed) for (const a of c.args ?? []) r.executedArgs.add(a);
      if (o.key === null && c.operation === "mutation") {
        const ran = executed && (!hasData || Object.values(body!.data!).some((v) => v !== null));
        if (ran || !codes.length || codes.some((code) => !REFUSALS.has(code)))
          problem(c, `mutation without a key was not refused: status ${status}, ${text.slice(0, 300)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: o.concurrency ?? 2 }, worker));
  return r;
}

/** Coordinates of the schema that the campaign did not reach. */
export function uncovered(r: CampaignReport, o: { executed: boolean }): { fields: string[]; args: string[] } {
  const all = schemaCoordinates(loadSchema());
  return {
    fields: all.fields.filter((f) => !r.sentFields.has(f)),
    args: all.args.filter((a) => !(o.executed ? r.executedArgs : r.sentArgs).has(a)),
  };
}

export function summary(r: CampaignReport): string {
  const mib = (b: number) => Math.round(b / 2 ** 20);
  return (
    `${r.requests} hostile requests, ${r.internalErrors} internal errors; slowest ${Math.round(r.slowestMs)} ms (${r.slowest}); ` +
    `peak RSS ${mib(r.peakRssBytes)} MiB; statuses ${JSON.stringify(r.statuses)}; codes ${JSON.stringify(r.codes)}`
  );
}

/** A request, short enough to read: long strings and lists cut, with their lengths. */
function describe(body: string): string {
  const cut = (v: unknown): unknown => {
    if (typeof v === "string") return v.length > 80 ? `${v.slice(0, 60)}…(${v.length} chars)` : v;
    if (Array.isArray(v)) return v.length > 8 ? [...v.slice(0, 4).map(cut), `…(${v.length} items)`] : v.map(cut);
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, cut(x)]));
    return v;
  };
  try {
    const b = JSON.parse(body) as { query?: unknown; variables?: unknown };
    const q = typeof b.query === "string" && b.query.length > 400 ? `${b.query.slice(0, 400)}…(${b.query.length} chars)` : b.query;
    return JSON.stringify({ ...b, query: q, variables: cut(b.variables) });
  } catch {
    return body.length > 300 ? `${body.slice(0, 300)}…(${body.length} chars)` : body;
  }
}
