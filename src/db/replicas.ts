// Read replicas (DATABASE_READ_URLS): the raw-driver statements of a read-only operation go to
// a healthy hot standby, everything else to the primary. The HTTP layer opens a read scope per
// GraphQL request (readScope.run) and marks it read-only once the operation is known to be a
// query; statements outside a scope (mutations, jobs, ingest, migrations) and Prisma's cold
// statements always reach the primary.
//
// Read-your-writes without server state: a mutation's response carries the primary's WAL
// position after its commit (primaryLsn), the client sends it back, and the scope is then
// served only by a standby that has replayed that far (else the primary). Any API replica can
// check that, so it works behind a load balancer.
import { AsyncLocalStorage } from "node:async_hooks";
import { createPool, type Database, describeUrl, pgStatementPath } from "./database.ts";
import { isConnectionFailure, isReadOnlyViolation, parseLsn, Replica, type ReplicaStatus } from "./replica-health.ts";

export { isLsn, type ReplicaState, type ReplicaStatus } from "./replica-health.ts";

export interface ReplicaOptions {
  urls: readonly string[];
  maxLagMs: number;
  checkMs: number;
  poolSize: number;
  preparedStatements: boolean;
}

interface Scope {
  /** Set once the operation is known to be read-only (a query). */
  read: boolean;
  /** The WAL position the client has seen (Monoscope-LSN), as a number. */
  minLsn: bigint | null;
  /** The server chosen for this scope, at its first statement (so one request sees one server). */
  target: Promise<Replica | null> | null;
}

export interface ReadRouting {
  /** Runs fn in a read scope; minLsn: the LSN a client sent back (validated by the caller with isLsn). */
  run<T>(minLsn: string | null, fn: () => T): T;
  /** Marks the current scope read-only (no-op outside one). */
  markReadOnly(): void;
  /** The primary's WAL position now (after a mutation has committed). */
  primaryLsn(): Promise<string>;
  status(): ReplicaStatus[];
  /** Reads served, by where they went. */
  readonly served: { replica: number; primary: number; fallback: number };
  /** Runs the health checks once, now (tests, start-up). */
  checkNow(): Promise<void>;
  close(): Promise<void>;
}

export async function withReadReplicas(primary: Database, opts: ReplicaOptions): Promise<{ db: Database; routing: ReadRouting }> {
  if (primary.backend !== "postgres") throw new Error("read replicas need the PostgreSQL backend");
  const replicas: Replica[] = [];
  for (const url of opts.urls) {
    // A short connect timeout: a standby that is down must cost a read little before it falls back.
    const pool = await createPool(url, { max: opts.poolSize, connectionTimeoutMillis: 2000 }, primary.stats);
    replicas.push(new Replica(describeUrl(url).replace(/^PostgreSQL at /, ""), pool, pgStatementPath(pool, opts.preparedStatements), opts.maxLagMs));
  }
  const scopes = new AsyncLocalStorage<Scope>();
  const served = { replica: 0, primary: 0, fallback: 0 };
  let next = 0;

  const primaryLsn = async () => {
    const [row] = (await primary.sql`/* replica.primaryLsn */ SELECT pg_current_wal_lsn()::text AS lsn`) as { lsn: string }[];
    return row!.lsn;
  };

  const choose = async (scope: Scope): Promise<Replica | null> => {
    const up = replicas.filter((r) => r.eligible);
    // Round robin over the healthy ones, starting at a different one each request.
    const start = next++;
    for (let i = 0; i < up.length; i++) {
      const r = up[(start + i) % up.length]!;
      if (scope.minLsn === null || (await r.hasReplayed(scope.minLsn))) return r;
    }
    return null;
  };

  const route = async <T>(op: (s: Pick<Database, "sql" | "rows" | "run" | "sqlTransaction">) => Promise<T>): Promise<T> => {
    const scope = scopes.getStore();
    if (!scope?.read || replicas.length === 0) return op(primary);
    const target = await (scope.target ??= choose(scope));
    if (!target) {
      served.primary++;
      return op(primary);
    }
    try {
      const r = await op(target.statements);
      served.replica++;
      return r;
    } catch (e) {
      // A statement that writes belongs on the primary; a standby that went away leaves the rest
      // of this request (and others, until it checks healthy again) to the primary.
      if (isReadOnlyViolation(e)) scope.read = false;
      else if (isConnectionFailure(e)) target.markDown(e);
      else throw e;
      scope.target = Promise.resolve(null);
      served.fallback++;
      return op(primary);
    }
  };

  let checking: Promise<void> | null = null;
  const checkNow = () =>
    (checking ??= (async () => {
      const lsn = await primaryLsn().catch(() => null);
      await Promise.all(replicas.map((r) => r.check(lsn, Math.max(1000, opts.checkMs * 2))));
    })().finally(() => {
      checking = null;
    }));
  await checkNow();
  const timer = setInterval(() => void checkNow(), opts.checkMs);
  timer.unref();

  const db: Database = {
    backend: primary.backend,
    get prisma() {
      return primary.prisma;
    },
    driver: primary.driver,
    stats: primary.stats,
    location: `${primary.location} with ${replicas.length} read replica(s)`,
    sql: (strings, ...values) => route((s) => s.sql(strings, ...values)),
    rows:
      (parser) =>
      (strings, ...values) =>
        route((s) => s.rows(parser)(strings, ...values)),
    run: (strings, ...values) => route((s) => s.run(strings, ...values)),
    sqlTransaction: (fn) => route((s) => s.sqlTransaction(fn)),
    async close() {
      clearInterval(timer);
      await checking?.catch(() => {});
      await Promise.all(replicas.map((r) => r.pool.end().catch(() => {})));
      await primary.close();
    },
  };
  const routing: ReadRouting = {
    run: (minLsn, fn) => scopes.run({ read: false, minLsn: minLsn === null ? null : parseLsn(minLsn), target: null }, fn),
    markReadOnly() {
      const scope = scopes.getStore();
      if (scope) scope.read = true;
    },
    primaryLsn,
    status: () => replicas.map((r) => r.status()),
    served,
    checkNow,
    close: () => db.close(),
  };
  return { db, routing };
}
