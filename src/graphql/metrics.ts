// Prometheus metrics for the API server. The registry is created per server (no
// module-level default registry), so tests and several servers in one process
// never share counters.
import type { ApolloServerPlugin } from "@apollo/server";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { Database } from "../db/database.ts";
import type { GraphQLContext } from "./context.ts";

const MAX_OPERATION_NAMES = 200;
const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

export interface ServerMetrics {
  registry: Registry;
  apolloPlugin: ApolloServerPlugin<GraphQLContext>;
  observeHttp(route: string, method: string, status: number, seconds: number): void;
  rateLimited(): void;
}

export interface MatrixCacheStats {
  bytes: number;
  matrices: number;
  loads: number;
  budgetBytes: number;
}

export function createMetrics(
  db: Database,
  opts: { defaultMetrics?: boolean; operations?: readonly string[]; matrixCache?: () => MatrixCacheStats } = {},
): ServerMetrics {
  const registry = new Registry();
  if (opts.defaultMetrics !== false) {
    collectDefaultMetrics({ register: registry, prefix: "monoscope_" });
    // The runtime's exact version helps whoever looks for a known vulnerability more than an operator.
    registry.removeSingleMetric("monoscope_nodejs_version_info");
  }

  const operations = new Counter({
    name: "monoscope_graphql_operations_total",
    help: "GraphQL operations by operation name, type and outcome (ok | error)",
    labelNames: ["operation", "type", "outcome"],
    registers: [registry],
  });
  const duration = new Histogram({
    name: "monoscope_graphql_operation_duration_seconds",
    help: "GraphQL operation latency by operation name and type",
    labelNames: ["operation", "type"],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const errors = new Counter({
    name: "monoscope_graphql_errors_total",
    help: "GraphQL errors returned, by error code",
    labelNames: ["code"],
    registers: [registry],
  });
  const http = new Counter({
    name: "monoscope_http_requests_total",
    help: "HTTP requests by route, method and status",
    labelNames: ["route", "method", "status"],
    registers: [registry],
  });
  const httpDuration = new Histogram({
    name: "monoscope_http_request_duration_seconds",
    help: "HTTP request latency by route",
    labelNames: ["route", "method"],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const rateLimited = new Counter({ name: "monoscope_rate_limited_total", help: "Requests refused by the per-client rate limit", registers: [registry] });
  new Gauge({
    name: "monoscope_db_statements_total",
    help: "SQL statements sent to the database since start",
    registers: [registry],
    collect() {
      this.set(db.stats.statements);
    },
  });
  const matrixCache = opts.matrixCache;
  if (matrixCache) {
    // What SAE-affinity routing saves shows here: each replica's bytes and its loads (misses).
    new Gauge({
      name: "monoscope_matrix_cache_bytes",
      help: "Decoder-matrix cache: bytes held now (held) and the budget (budget, MONOSCOPE_MATRIX_CACHE_BYTES)",
      labelNames: ["kind"],
      registers: [registry],
      collect() {
        const s = matrixCache();
        this.set({ kind: "held" }, s.bytes);
        this.set({ kind: "budget" }, s.budgetBytes);
      },
    });
    new Gauge({
      name: "monoscope_matrix_cache_matrices",
      help: "Decoder matrices held by the cache now (one per SAE)",
      registers: [registry],
      collect() {
        this.set(matrixCache().matrices);
      },
    });
    new Gauge({
      name: "monoscope_matrix_cache_loads_total",
      help: "Decoder matrices loaded from the database since start (cache misses)",
      registers: [registry],
      collect() {
        this.set(matrixCache().loads);
      },
    });
  }
  const pool = db.driver.kind === "postgres" ? db.driver.pool : null;
  new Gauge({
    name: "monoscope_db_pool_connections",
    help: "Database pool connections by state (total | idle | waiting); the embedded database has one in-process connection",
    labelNames: ["state"],
    registers: [registry],
    collect() {
      this.set({ state: "total" }, pool ? pool.totalCount : 1);
      this.set({ state: "idle" }, pool ? pool.idleCount : 0);
      this.set({ state: "waiting" }, pool ? pool.waitingCount : 0);
    },
  });

    // Operation names come from clients, so a label set filled first-come-first-served (or
  // an LRU) lets anyone push a dashboard's operation into "other" with junk names. Labels
  // come only from the configured allow-list and from callers holding a valid API key
  // (bounded): an anonymous caller can never add or evict one.
  const allowed = new Set(opts.operations ?? []);
  const keyed = new Set<string>();
  const label = (name: string | null | undefined, withKey: boolean) => {
    if (!name) return "anonymous";
    if (!NAME.test(name)) return "invalid";
    if (allowed.has(name) || keyed.has(name)) return name;
    if (!withKey || keyed.size >= MAX_OPERATION_NAMES) return "other";
    keyed.add(name);
    return name;
  };

  const apolloPlugin: ApolloServerPlugin<GraphQLContext> = {
    async requestDidStart() {
      const start = process.hrtime.bigint();
      return {
        async willSendResponse(rc) {
          const op = label(rc.operationName ?? rc.request.operationName, rc.contextValue.caller.clientId.startsWith("key:"));
          const type = rc.operation?.operation ?? "unknown";
          const errs = rc.response.body.kind === "single" ? (rc.response.body.singleResult.errors ?? []) : [];
          for (const e of errs) errors.inc({ code: String(e.extensions?.code ?? "INTERNAL_SERVER_ERROR") });
          operations.inc({ operation: op, type, outcome: errs.length ? "error" : "ok" });
          duration.observe({ operation: op, type }, Number(process.hrtime.bigint() - start) / 1e9);
        },
      };
    },
  };

  return {
    registry,
    apolloPlugin,
    observeHttp(route, method, status, seconds) {
      http.inc({ route, method, status: String(status) });
      httpDuration.observe({ route, method }, seconds);
    },
    rateLimited() {
      rateLimited.inc();
    },
  };
}
