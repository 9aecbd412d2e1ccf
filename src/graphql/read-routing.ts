// The HTTP side of read replicas (src/db/replicas.ts): a GraphQL request runs in a read scope
// that its operation marks read-only once it is known to be a query; a mutation's response
// carries the primary's WAL position in Monoscope-LSN, and a request that sends it back is
// served only by a standby that has replayed it. Replica state and lag go to /metrics.
import type { ApolloServerPlugin } from "@apollo/server";
import { Counter, Gauge, type Registry } from "prom-client";
import { isLsn, type ReadRouting, type ReplicaState } from "../db/replicas.ts";
import type { GraphQLContext } from "./context.ts";

export const LSN_HEADER = "monoscope-lsn";

/** The LSN a request sent back, or an error message naming the header. */
export function requestLsn(header: string | string[] | undefined): { lsn: string | null } | { error: string } {
  if (header === undefined) return { lsn: null };
  const value = Array.isArray(header) ? header.at(-1)! : header;
  if (isLsn(value.trim())) return { lsn: value.trim() };
  const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value;
  return { error: `header Monoscope-LSN must be a PostgreSQL WAL position such as 0/16B3748 (the value a mutation's response carried); got "${shown}"` };
}

export function readRoutingPlugin(routing: ReadRouting): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation }) {
          if (operation?.operation === "query") routing.markReadOnly();
        },
      };
    },
  };
}

const STATES: ReplicaState[] = ["up", "lagging", "down", "not_standby", "starting"];

export function registerReplicaMetrics(registry: Registry, routing: ReadRouting): void {
  new Gauge({
    name: "monoscope_replica_up",
    help: "1 when a read replica serves reads (reachable, in recovery, within MONOSCOPE_REPLICA_MAX_LAG_MS), else 0",
    labelNames: ["replica"],
    registers: [registry],
    collect() {
      for (const r of routing.status()) this.set({ replica: r.name }, r.state === "up" ? 1 : 0);
    },
  });
  new Gauge({
    name: "monoscope_replica_state",
    help: "A read replica's state at the last health check (1 for its current state)",
    labelNames: ["replica", "state"],
    registers: [registry],
    collect() {
      for (const r of routing.status()) for (const s of STATES) this.set({ replica: r.name, state: s }, r.state === s ? 1 : 0);
    },
  });
  new Gauge({
    name: "monoscope_replica_lag_seconds",
    help: "Replay lag of a read replica at the last health check (-1 when unknown)",
    labelNames: ["replica"],
    registers: [registry],
    collect() {
      for (const r of routing.status()) this.set({ replica: r.name }, r.lagMs === null ? -1 : r.lagMs / 1000);
    },
  });
  new Counter({
    name: "monoscope_read_statements_total",
    help: "Statements of read-only operations by where they ran (replica | primary: no replica fit | fallback: a replica failed)",
    labelNames: ["target"],
    registers: [registry],
    collect() {
      this.reset();
      for (const [target, n] of Object.entries(routing.served)) this.inc({ target }, n);
    },
  });
}
