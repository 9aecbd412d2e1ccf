// Health of one hot standby, measured on a timer: reachable, in recovery, how far its replay
// is behind the primary. A replica serves reads only while it is up and within the lag bound;
// a statement that finds it gone marks it down at once, and the next check may bring it back.
import type pg from "pg";
import { redactSecrets } from "../errors.ts";
import type { SqlStatements } from "./database.ts";

export type ReplicaState = "up" | "lagging" | "down" | "not_standby" | "starting";

export interface ReplicaStatus {
  /** host:port/db, safe to show (no credentials). */
  name: string;
  state: ReplicaState;
  /** Replay lag in ms (0 when it has replayed all the primary had written at the last check); null when unknown. */
  lagMs: number | null;
  /** pg_last_wal_replay_lsn() at the last check. */
  replayLsn: string | null;
  /** Why it is down (a driver message, credentials removed). */
  error: string | null;
  checkedAt: string | null;
}

/** A PostgreSQL LSN ("16/B374D848") as one number, for comparisons. */
export function parseLsn(lsn: string): bigint {
  const m = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(lsn);
  if (!m) throw new Error(`not an LSN: ${lsn}`);
  return (BigInt(`0x${m[1]}`) << 32n) + BigInt(`0x${m[2]}`);
}

export const isLsn = (v: string): boolean => /^[0-9A-Fa-f]{1,8}\/[0-9A-Fa-f]{1,8}$/.test(v);

/**
 * Errors that mean the server or the connection went away (not a problem with the statement):
 * refused or reset sockets, a server shutting down or still starting (57P01..57P03), a
 * connection that ended mid-query.
 */
export function isConnectionFailure(e: unknown): boolean {
  const err = e as { code?: string; message?: string } | null;
  const code = err?.code ?? "";
  if (["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENOTFOUND"].includes(code)) return true;
  if (/^57P0[1-3]$/.test(code) || code.startsWith("08")) return true;
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(err?.message ?? "");
}

/** A write that reached a standby (cannot execute … in a read-only transaction). */
export const isReadOnlyViolation = (e: unknown): boolean => (e as { code?: string } | null)?.code === "25006";

export class Replica {
  state: ReplicaState = "starting";
  lagMs: number | null = null;
  replayLsn: string | null = null;
  error: string | null = null;
  checkedAt: Date | null = null;

  constructor(
    readonly name: string,
    readonly pool: pg.Pool,
    readonly statements: SqlStatements & Pick<import("./database.ts").Database, "sqlTransaction">,
    private readonly maxLagMs: number,
  ) {}

  get eligible(): boolean {
    return this.state === "up";
  }

  /** Whether it has replayed lsn, by the last check or (when that is older) by asking it now. */
  async hasReplayed(lsn: bigint): Promise<boolean> {
    if (this.replayLsn && parseLsn(this.replayLsn) >= lsn) return true;
    try {
      const [row] = (await this.statements.sql`/* replica.replayLsn */ SELECT pg_last_wal_replay_lsn()::text AS lsn`) as { lsn: string | null }[];
      if (row?.lsn) this.replayLsn = row.lsn;
      return row?.lsn ? parseLsn(row.lsn) >= lsn : false;
    } catch (e) {
      if (isConnectionFailure(e)) this.markDown(e);
      return false;
    }
  }

  markDown(e: unknown): void {
    this.state = "down";
    this.error = redactSecrets(String((e as Error)?.message ?? e));
  }

  /** One health check against the primary's current WAL position. */
  async check(primaryLsn: string | null, timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const probe = this.statements.sql`/* replica.health */
        SELECT pg_is_in_recovery() AS standby, pg_last_wal_replay_lsn()::text AS lsn,
               CASE WHEN ${primaryLsn}::pg_lsn IS NULL THEN NULL
                    ELSE pg_wal_lsn_diff(${primaryLsn}::pg_lsn, pg_last_wal_replay_lsn())::float8 END AS behind,
               (extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp()) * 1000)::float8 AS since_ms`;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`health check took longer than ${timeoutMs} ms`)), timeoutMs);
      });
      const [row] = (await Promise.race([probe, timeout])) as { standby: boolean; lsn: string | null; behind: number | null; since_ms: number | null }[];
      this.checkedAt = new Date();
      this.error = null;
      if (!row?.standby) {
        this.state = "not_standby";
        this.lagMs = null;
        return;
      }
      this.replayLsn = row.lsn;
      // Caught up with what the primary had written: no lag, however long ago the last commit was.
      // Behind: the age of the last replayed commit bounds how stale its reads are.
      this.lagMs = row.behind !== null && row.behind <= 0 ? 0 : row.since_ms === null ? null : Math.max(0, Math.round(row.since_ms));
      this.state = this.lagMs !== null && this.lagMs <= this.maxLagMs ? "up" : "lagging";
    } catch (e) {
      this.checkedAt = new Date();
      this.lagMs = null;
      this.markDown(e);
    } finally {
      clearTimeout(timer);
    }
  }

  status(): ReplicaStatus {
    return {
      name: this.name,
      state: this.state,
      lagMs: this.lagMs,
      replayLsn: this.replayLsn,
      error: this.error,
      checkedAt: this.checkedAt?.toISOString() ?? null,
    };
  }
}
