// A PostgreSQL 15 primary with a real streaming hot standby (pg_basebackup -R), on free
// loopback ports in a temporary directory, for the read-replica tests. The shared test server
// runs with wal_level=minimal and no WAL senders, so the tests make their own pair.
import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";

const BIN = process.env.MONOSCOPE_PG_BIN ?? "/usr/lib/postgresql/15/bin";
const asRoot = process.getuid?.() === 0;

/** PostgreSQL refuses to run as root: run its tools as the postgres user then. */
function pgTool(tool: string, args: string[]): string {
  const cmd = asRoot ? "runuser" : join(BIN, tool);
  const full = asRoot ? ["-u", "postgres", "--", join(BIN, tool), ...args] : args;
  return execFileSync(cmd, full, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], cwd: "/" });
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface StandbyCluster {
  primaryUrl: string;
  standbyUrl: string;
  /** Stops the standby at once (as a crash would). */
  killStandby(): void;
  startStandby(): void;
  /** Runs SQL on the standby as the superuser (pg_wal_replay_pause() and the like). */
  onStandby(sql: string): Promise<unknown[]>;
  /** Waits until the standby has replayed everything the primary has written. */
  waitForReplay(timeoutMs?: number): Promise<void>;
  stop(): void;
}

export async function startStandbyCluster(): Promise<StandbyCluster> {
  const root = mkdtempSync(join(tmpdir(), "monoscope-standby-"));
  chmodSync(root, 0o777);
  const primary = join(root, "primary");
  const standby = join(root, "standby");
  const [pPort, sPort] = [await freePort(), await freePort()];
  pgTool("initdb", ["-D", primary, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"]);
  const conf = (port: number) =>
    `listen_addresses = '127.0.0.1'\nport = ${port}\nunix_socket_directories = '${root}'\nwal_level = replica\nmax_wal_senders = 4\n` +
    `hot_standby = on\nfsync = off\nshared_buffers = '64MB'\nmax_connections = 40\nlog_min_messages = warning\n`;
  const writeConf = (dir: string, port: number) => {
    writeFileSync(join(dir, "postgresql.auto.conf"), conf(port), { flag: "a" });
    if (asRoot) execFileSync("chown", ["-R", "postgres:", dir]);
  };
  writeConf(primary, pPort);
  writeFileSync(join(primary, "pg_hba.conf"), "host all all 127.0.0.1/32 trust\nhost replication all 127.0.0.1/32 trust\nlocal all all trust\n");
  if (asRoot) execFileSync("chown", ["-R", "postgres:", root]);
  const start = (dir: string) => pgTool("pg_ctl", ["start", "-D", dir, "-l", join(dir, "server.log"), "-w", "-t", "60", "-s"]);
  start(primary);
  const primaryUrl = `postgresql://postgres@127.0.0.1:${pPort}/monoscope`;
  const admin = new pg.Client({ connectionString: `postgresql://postgres@127.0.0.1:${pPort}/postgres` });
  await admin.connect();
  await admin.query("CREATE DATABASE monoscope");
  await admin.end();
  const db = new pg.Client({ connectionString: primaryUrl });
  await db.connect();
  await db.query("CREATE EXTENSION IF NOT EXISTS vector; CREATE EXTENSION IF NOT EXISTS pg_trgm");
  await db.end();
  pgTool("pg_basebackup", ["-h", "127.0.0.1", "-p", String(pPort), "-U", "postgres", "-D", standby, "-R", "-X", "stream", "--no-sync"]);
  writeConf(standby, sPort);
  start(standby);
  const standbyUrl = `postgresql://postgres@127.0.0.1:${sPort}/monoscope`;
  const query = async (url: string, sql: string) => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      return (await c.query(sql)).rows;
    } finally {
      await c.end();
    }
  };
  let standbyRunning = true;
  return {
    primaryUrl,
    standbyUrl,
    killStandby() {
      pgTool("pg_ctl", ["stop", "-D", standby, "-m", "immediate", "-s"]);
      standbyRunning = false;
    },
    startStandby() {
      start(standby);
      standbyRunning = true;
    },
    onStandby: (sql) => query(standbyUrl, sql),
    async waitForReplay(timeoutMs = 30_000) {
      const [{ lsn }] = (await query(primaryUrl, "SELECT pg_current_wal_lsn()::text AS lsn")) as { lsn: string }[];
      const until = Date.now() + timeoutMs;
      for (;;) {
        const [{ ok }] = (await query(standbyUrl, `SELECT pg_last_wal_replay_lsn() >= '${lsn}'::pg_lsn AS ok`)) as { ok: boolean }[];
        if (ok) return;
        if (Date.now() > until) throw new Error(`standby did not replay ${lsn} within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    stop() {
      for (const [dir, running] of [
        [standby, standbyRunning],
        [primary, true],
      ] as const) {
        if (running) {
          try {
            pgTool("pg_ctl", ["stop", "-D", dir, "-m", "immediate", "-s"]);
          } catch {
            /* already stopped */
          }
        }
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
}
