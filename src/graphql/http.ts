// The HTTP server: Apollo mounted on Fastify so one port serves the query IDE (/),
// GraphQL (/graphql), the NDJSON export, health (/healthz, /readyz) and Prometheus
// metrics (/metrics).
// The explorer app is served at / (explorer.ts), the query IDE at /graphiql. Around GraphQL: API keys, a per-client rate limit, CORS,
// ETag/Cache-Control on GET queries, one JSON access-log line per request.
import { createHash, randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import fastifyCors from "@fastify/cors";
import { fastifyApolloHandler } from "@as-integrations/fastify";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import type { App } from "../app.ts";
import { pendingMigrations } from "../db/migrate.ts";
import { isAppError, redactSecrets } from "../errors.ts";
import { createApolloServer } from "./apollo.ts";
import { type Caller, identifyCaller } from "./auth.ts";
import type { GraphQLContext } from "./context.ts";
import { createContext } from "./create-context.ts";
import { exportFeatures } from "./export.ts";
import { createFastPath } from "./fast-path.ts";
import { createPipeline } from "./pipeline.ts";
import { registerExplorerRoutes } from "./explorer.ts";
import { examples, IDE_ASSETS, IDE_MISSING_PAGE, ideBuilt, idePage, readIdeAsset } from "./ide.ts";
import { documentNestingError } from "./document-limits.ts";
import { createMetrics } from "./metrics.ts";
import { RateLimiter } from "./rate-limit.ts";
import { LSN_HEADER, readRoutingPlugin, registerReplicaMetrics, requestLsn } from "./read-routing.ts";

export interface HttpServer {
  fastify: FastifyInstance;
  url: string;
  close(): Promise<void>;
}

declare module "fastify" {
  interface FastifyRequest {
    caller: Caller;
    gql: GraphQLContext | null;
  }
}

/** Routes whose requests count against the rate limit (the IDE's static files and probes do not). */
const LIMITED = (url: string) => url.startsWith("/graphql") || url.startsWith("/export/");

/**
 * GraphQL-over-HTTP: a client that accepts only `application/json` (the legacy media type)
 * gets 200 for request errors in a well-formed request (document parse or validation
 * failure, variable coercion), as the spec asks; `application/graphql-response+json`
 * clients keep Apollo's 400.
 */
const REQUEST_ERRORS = new Set(["GRAPHQL_PARSE_FAILED", "GRAPHQL_VALIDATION_FAILED", "BAD_USER_INPUT"]);
function legacyJsonStatus(reply: FastifyReply, payload: unknown) {
  const type = String(reply.getHeader("content-type") ?? "");
  if (!type.startsWith("application/json") || typeof payload !== "string" || !payload.startsWith('{"errors"')) return;
  try {
    const body = JSON.parse(payload) as { errors?: { extensions?: { code?: string } }[] };
    if (body.errors?.length && body.errors.every((e) => REQUEST_ERRORS.has(e.extensions?.code ?? ""))) reply.code(200);
  } catch {
    /* not JSON: leave the status alone */
  }
}

/** SAE ids are slugs of at most 200 characters (src/db/ddl.ts); a longer one is not echoed back. */
const MAX_ID_LENGTH = 200;
const EXPORT_TIMEOUT_MS = 60 * 60 * 1000;

/** Adds names to a Vary header without dropping what others set (CORS sets Vary: Origin). */
export function mergeVary(existing: unknown, add: readonly string[]): string {
  const have = (Array.isArray(existing) ? existing.join(",") : typeof existing === "string" ? existing : "")
    .split(",")
    .map((v) => v.trim())
    .filter(Boolean);
  const lower = new Set(have.map((v) => v.toLowerCase()));
  for (const a of add) if (!lower.has(a.toLowerCase())) have.push(a), lower.add(a.toLowerCase());
  return have.join(", ");
}

function graphqlError(reply: FastifyReply, status: number, code: string, message: string) {
  return reply.code(status).type("application/json; charset=utf-8").send({ errors: [{ message, extensions: { code } }] });
}

export async function buildHttpServer(app: App): Promise<{ fastify: FastifyInstance; stop(): Promise<void> }> {
  const cfg = app.config.server;
  const fastify = Fastify({
    logger: false,
    bodyLimit: 10 * 1024 * 1024,
    genReqId: () => randomUUID(),
    // A client gets bodyTimeoutMs to send its whole request (headers and body: a slow-loris
    // connection trickling a declared body is cut), the server requestTimeoutMs to answer.
    requestTimeout: cfg.bodyTimeoutMs,
    handlerTimeout: cfg.requestTimeoutMs,
    keepAliveTimeout: cfg.keepAliveTimeoutMs,
    // Node checks the request timeout only every connectionsCheckingInterval (30 s by default).
    http: { headersTimeout: cfg.bodyTimeoutMs, connectionsCheckingInterval: Math.min(1000, cfg.bodyTimeoutMs) },
  });
  const metrics = createMetrics(app.db, { operations: cfg.metricsOperations, matrixCache: () => app.services.geometry.matrixCacheStats() });
  const limiter = new RateLimiter(cfg.rateLimitPerMinute);
  const routing = app.readRouting;
  if (routing) registerReplicaMetrics(metrics.registry, routing);
  const pipeline = createPipeline(app);
  const serverPlugins = [metrics.apolloPlugin, ...(routing ? [readRoutingPlugin(routing)] : [])];
  const apollo = createApolloServer(app, { pipeline, plugins: serverPlugins });
  // The common request (a JSON POST of a query that validates and runs without error) skips Apollo's pipeline (fast-path.ts).
  const fast = createFastPath(pipeline, [...pipeline.plugins, ...serverPlugins]);
  await apollo.start();
  if (cfg.readsRequireKey && cfg.apiKeys.length === 0) app.log.warn("MONOSCOPE_READS_REQUIRE_KEY is set but MONOSCOPE_API_KEYS is empty: reads stay open");

  if (cfg.corsOrigins.length) {
    await fastify.register(fastifyCors, {
      origin: cfg.corsOrigins.includes("*") ? true : [...cfg.corsOrigins],
      methods: ["GET", "POST"],
      allowedHeaders: ["content-type", "authorization", "accept", LSN_HEADER],
      exposedHeaders: ["etag", "retry-after", LSN_HEADER],
      maxAge: 600,
    });
  }

  fastify.decorateRequest("caller", null as unknown as Caller);
  fastify.decorateRequest("gql", null);
  fastify.addHook("onRequest", async (request, reply) => {
    request.caller = identifyCaller(cfg, request.headers.authorization, request.ip);
    if (request.method === "OPTIONS" || !LIMITED(request.url)) return;
    const d = limiter.take(request.caller.clientId);
    if (!d.ok) {
      metrics.rateLimited();
      reply.header("retry-after", String(d.retryAfter));
      return graphqlError(reply, 429, "RATE_LIMITED", `rate limit of ${cfg.rateLimitPerMinute} requests per minute exceeded; retry in ${d.retryAfter} s`);
    }
  });

  const apolloHandler = fastifyApolloHandler(apollo, {
    context: async (request) => {
      const ctx = createContext(app, request.caller);
      request.gql = ctx;
      return ctx;
    },
  });
  const handler: typeof apolloHandler = async function (request, reply) {
    if (request.method === "POST") {
      const ctx = createContext(app, request.caller);
      const body = await fast.run({ headers: request.headers, body: request.body }, ctx);
      if (body !== null) {
        request.gql = ctx;
        return reply.code(200).type("application/json; charset=utf-8").send(body);
      }
    }
    return apolloHandler.call(this, request, reply);
  };
  // Each request runs in a read scope (read replicas: src/db/replicas.ts), which a query marks read-only.
  const graphqlHandler: typeof handler = routing
    ? function (request, reply) {
        const sent = requestLsn(request.headers[LSN_HEADER]);
        if ("error" in sent) return void graphqlError(reply, 400, "BAD_USER_INPUT", sent.error);
        return routing.run(sent.lsn, () => handler.call(this, request, reply));
      }
    : handler;
  fastify.route({
    method: ["GET", "POST"],
    url: "/graphql",
    // Before Apollo parses: graphql-js's recursive parser overflows its stack on documents nested thousands deep.
    preValidation: async (request, reply) => {
      const source = request.method === "GET" ? (request.query as { query?: unknown } | null)?.query : (request.body as { query?: unknown } | null)?.query;
      const err = documentNestingError(source);
      if (!err) return;
      // Answered as Apollo answers other parse errors: 400 for graphql-response+json clients, 200 for legacy JSON ones (onSend).
      const modern = String(request.headers.accept ?? "").includes("application/graphql-response+json");
      return reply
        .code(400)
        .type(modern ? "application/graphql-response+json; charset=utf-8" : "application/json; charset=utf-8")
        .send(JSON.stringify({ errors: [{ message: err.message, extensions: { code: "GRAPHQL_PARSE_FAILED" } }] }));
    },
    handler: graphqlHandler,
  });

  fastify.addHook("onSend", async (request, reply, payload) => {
    if (request.routeOptions.url !== "/graphql") return payload;
    if (reply.statusCode === 400) legacyJsonStatus(reply, payload);
    // Read-your-writes: the WAL position after the mutation committed; sent back, it picks a standby that has it.
    if (routing && request.gql?.request.operationType === "mutation") reply.header(LSN_HEADER, await routing.primaryLsn().catch(() => undefined));
    // Successful GET queries are cacheable: a weak ETag of the body answers revalidation with 304.
    if (request.method !== "GET" || reply.statusCode !== 200) return payload;
    if (typeof payload !== "string" || payload.startsWith('{"errors"') || request.gql?.request.operationType !== "query") return payload;
    const etag = `W/"${createHash("sha1").update(payload).digest("base64url")}"`;
    reply.header("etag", etag);
    reply.header("cache-control", `${cfg.readsRequireKey ? "private" : "public"}, max-age=${cfg.httpCacheSeconds}, must-revalidate`);
    reply.header("vary", mergeVary(reply.getHeader("vary"), ["accept", "authorization", ...(routing ? [LSN_HEADER] : [])]));
    const inm = request.headers["if-none-match"];
    if (inm && inm.split(",").some((t) => t.trim() === etag || t.trim() === "*")) {
      reply.code(304);
      return "";
    }
    return payload;
  });

  registerExplorerRoutes(fastify);
  fastify.get("/graphiql", async (_request, reply) => {
    if (!ideBuilt()) return reply.code(503).type("text/html; charset=utf-8").send(IDE_MISSING_PAGE);
    const saes = await app.services.sae.saes({}).catch(() => []);
    const html = idePage(examples(saes[0]?.id ?? "gpt2-small/res-jb/8", saes[0]?.familyId ?? null));
    return reply.type("text/html; charset=utf-8").header("cache-control", "no-cache").send(html);
  });
  fastify.get<{ Params: { file: string } }>("/ide/:file", async (request, reply) => {
    const body = readIdeAsset(request.params.file);
    if (!body) return reply.code(404).send({ error: "not found" });
    return reply.type(IDE_ASSETS[request.params.file]).header("cache-control", "public, max-age=3600").send(body);
  });

  // The export streams past the request timeout: a large SAE takes longer than one answer should.
  fastify.get("/export/*", { handlerTimeout: EXPORT_TIMEOUT_MS }, async (request, reply) => {
    // The router has already decoded the path once (%2F is a slash inside the id); decoding
    // again would turn %252F into another SAE's id and a bare %25 into a URIError.
    const raw = (request.params as { "*": string })["*"];
    if (!raw.endsWith(".ndjson")) return reply.code(404).send({ error: "use /export/<saeId>.ndjson" });
    if (cfg.readsRequireKey && !request.caller.authenticated) {
      reply.header("www-authenticate", 'Bearer realm="monoscope"');
      return graphqlError(reply, 401, "UNAUTHENTICATED", "this server requires an API key: send Authorization: Bearer <key>");
    }
    const saeId = raw.slice(0, -".ndjson".length);
    if (saeId.length > MAX_ID_LENGTH) {
      return graphqlError(reply, 400, "BAD_USER_INPUT", `SAE id is ${saeId.length} characters long; SAE ids have at most ${MAX_ID_LENGTH}`);
    }
    const lines = await exportFeatures(apollo, app, request.caller, saeId);
    return reply.type("application/x-ndjson; charset=utf-8").header("cache-control", "no-cache").send(Readable.from(lines));
  });

  // Example images by content hash: the bytes behind a hash never change, so caches keep them.
  fastify.get<{ Params: { hash: string } }>("/images/:hash", async (request, reply) => {
    if (cfg.readsRequireKey && !request.caller.authenticated) {
      reply.header("www-authenticate", 'Bearer realm="monoscope"');
      return graphqlError(reply, 401, "UNAUTHENTICATED", "this server requires an API key: send Authorization: Bearer <key>");
    }
    const img = await app.services.images.get(request.params.hash);
    if (!img) return reply.code(404).send({ error: "no image with this hash" });
    return reply
      .type(img.contentType)
      .header("cache-control", "public, max-age=31536000, immutable")
      .header("etag", `"${request.params.hash}"`)
      .header("x-content-type-options", "nosniff")
      .send(img.bytes);
  });

  fastify.get("/healthz", async () => ({ status: "ok" }));
  fastify.get("/readyz", async (_req, reply) => {
    try {
      const pending = await pendingMigrations(app.db);
      if (pending.length) return reply.code(503).send({ status: "migrations pending", pending });
      await app.db.prisma.$queryRaw`/* readyz */ SELECT 1`;
      // A standby that is down or lagging does not make this server unready: the primary serves its reads.
      return { status: "ready", database: app.db.backend, ...(routing ? { replicas: routing.status() } : {}) };
    } catch {
      return reply.code(503).send({ status: "database unreachable" });
    }
  });
  fastify.get("/metrics", async (request, reply) => {
    if (cfg.metricsRequireKey && cfg.apiKeys.length > 0 && !request.caller.clientId.startsWith("key:")) {
      reply.header("www-authenticate", 'Bearer realm="monoscope"');
      return graphqlError(reply, 401, "UNAUTHENTICATED", "metrics need an API key on this server: send Authorization: Bearer <key>");
    }
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  fastify.setNotFoundHandler((request, reply) => reply.code(404).send({ error: `no route ${request.method} ${request.url.split("?")[0]}` }));
  fastify.setErrorHandler((error: Error & { statusCode?: number; code?: string }, request, reply) => {
    if (isAppError(error)) {
      const status = error.code === "NOT_FOUND" ? 404 : error.code === "BAD_USER_INPUT" ? 400 : 500;
      return graphqlError(reply, status, error.code, redactSecrets(error.message));
    }
    if (error.code === "FST_ERR_HANDLER_TIMEOUT") {
      app.log.warn("request timed out", { path: request.url.split("?")[0], ms: cfg.requestTimeoutMs });
      return graphqlError(reply, 503, "REQUEST_TIMEOUT", `the request took longer than ${cfg.requestTimeoutMs} ms; ask for less (first / k) or retry later`);
    }
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (status === 500) {
      app.log.error("internal error in HTTP request", { path: request.url.split("?")[0], error: redactSecrets(String(error.stack ?? error)) });
      return graphqlError(reply, 500, "INTERNAL_SERVER_ERROR", "Internal server error");
    }
    // Client mistakes found by Fastify before GraphQL runs (malformed JSON, wrong content type, body too large).
    return graphqlError(reply, status, "BAD_REQUEST", redactSecrets(error.message));
  });

  fastify.addHook("onResponse", async (request: FastifyRequest, reply: FastifyReply) => {
    const seconds = reply.elapsedTime / 1000;
    const route = request.routeOptions.url ?? "unmatched";
    metrics.observeHttp(route, request.method, reply.statusCode, seconds);
    app.log.info("request", {
      reqId: request.id,
      method: request.method,
      path: request.url.split("?")[0],
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime * 10) / 10,
      client: request.caller?.clientId,
      ...(request.gql ? { operation: request.gql.request.operationName, operationType: request.gql.request.operationType } : {}),
    });
  });

  return {
    fastify,
    async stop() {
      await fastify.close();
      await apollo.stop();
    },
  };
}

export async function startHttpServer(app: App, opts: { port?: number; host?: string } = {}): Promise<HttpServer> {
  const { fastify, stop } = await buildHttpServer(app);
  const address = await fastify.listen({ port: opts.port ?? app.config.server.port, host: opts.host ?? app.config.server.host });
  // The cost limit's stored list sizes: the first look scans the examples, better now than on a request.
  void app.services.sizes.current().catch(() => {});
  return { fastify, url: address.replace("[::1]", "localhost"), close: stop };
}
