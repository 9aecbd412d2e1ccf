// CPU time a contender spends per request, from /proc (Linux): its server process with every
// descendant, plus the PostgreSQL client backends of one server (the database's share of the work).
// On a shared machine requests/s swing with everyone else's load; CPU seconds per request do not
// much, and on a dedicated machine requests/s ≈ cores ÷ CPU per request when the server is CPU-bound.
import { readdirSync, readFileSync } from "node:fs";
import pg from "pg";

const TICK_MS = 10; // USER_HZ is 100 on Linux

interface Proc {
  ppid: number;
  ticks: number;
  cmd: string;
}

function processes(): Map<number, Proc> {
  const out = new Map<number, Proc>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const cmd = readFileSync(`/proc/${name}/cmdline`, "utf8").replaceAll("\0", " ");
      out.set(Number(name), { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]), cmd });
    } catch {
      /* exited meanwhile */
    }
  }
  return out;
}

/** CPU milliseconds so far of root and its descendants. */
function treeMs(procs: Map<number, Proc>, root: number): number {
  let ticks = 0;
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop()!;
    const p = procs.get(pid);
    if (!p) continue;
    ticks += p.ticks;
    for (const [child, c] of procs) if (c.ppid === pid) stack.push(child);
  }
  return ticks * TICK_MS;
}

export interface CpuMeter {
  /** CPU ms so far: the server's tree and the database's client backends. */
  read(): { serverMs: number; databaseMs: number };
}

/** A meter for the server with pid serverPid and the PostgreSQL server that databaseUrl reaches (on this machine). */
export async function cpuMeter(serverPid: number, databaseUrl: string): Promise<CpuMeter> {
  const c = new pg.Client({ connectionString: databaseUrl });
  await c.connect();
  let postmaster: number;
  try {
    const { rows } = await c.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
    const me = processes().get(rows[0]!.pid);
    if (!me) throw new Error("the database server does not run on this machine (its backend is not in /proc)");
    postmaster = me.ppid;
  } finally {
    await c.end();
  }
  return {
    read() {
      const procs = processes();
      let backendTicks = 0;
      // Client backends only ("postgres: user db host(port) state"): not the checkpointer, WAL writer, autovacuum.
      for (const p of procs.values()) if (p.ppid === postmaster && /^postgres: \S+ \S+ [\d.:[\]a-f]+\(\d+\)/.test(p.cmd)) backendTicks += p.ticks;
      return { serverMs: treeMs(procs, serverPid), databaseMs: backendTicks * TICK_MS };
    },
  };
}
