// The benchmark suites' common ground: one result-row format that `npm run bench` (run.ts) turns
// into BENCHMARKS.json / BENCHMARKS.md, timing with medians and percentiles, the machine, a fresh
// PostgreSQL database per suite, and the numpy/OpenBLAS baseline's availability.
//
// A suite is a script that prints ONE JSON document on stdout (logs go to stderr):
//   { "suite": "nearest", "mode": "quick", "machine": {...}, "rows": [BenchRow, ...], "notes": [...] }
// It receives `--full` for the larger sizes (quick otherwise) and MONOSCOPE_BENCH_MODE=quick|full.
import { execFile, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import pg from "pg";
import { machine as baseMachine, median, percentile, round } from "./stats.ts";

export { median, percentile, round };

export type Mode = "quick" | "full";
export type Scalar = string | number | boolean | null;

/** One measured figure. `value` is the median over `reps` repeated runs. */
export interface BenchRow {
  /** Suite name (ingest, kernel, nearest, lineage, search, graphql, scale, ...). */
  suite: string;
  /** What was measured, unique within the suite (e.g. "hnsw ef_search=400 halfvec"). */
  name: string;
  /** Where it ran: postgres | pglite | kernel | numpy | psql-copy | graphql | sql | ... */
  backend: string;
  /** Sizes of the data: features, d_in, queries, clients, rows, ... */
  sizes: Record<string, number>;
  /** Knobs: k, ef_search, chunk size, settings stated for baselines, ... */
  params?: Record<string, Scalar>;
  /** How many repeated runs the median is taken over (latency rows: number of timed queries). */
  reps: number;
  /** What `value` measures: "p50 latency", "throughput", "build time", "bytes per feature", ... */
  metric: string;
  unit: string;
  value: number;
  better: "lower" | "higher" | "none";
  /** Further figures of the same run: p99, qps, recall@10, index bytes, GFLOP/s, ... */
  extra?: Record<string, Scalar>;
  /** The baseline this row is compared with, measured in the same run. */
  baseline?: { name: string; backend: string; value: number };
  /** value / baseline.value. */
  ratio?: number;
  /** The bar from an issue, on `ratio` (or on `value` when there is no baseline). */
  target?: { on: "ratio" | "value"; op: "<=" | ">="; limit: number; source: string };
  targetMet?: boolean;
  /**
   * Which of the issues' headline ratios this row is (report.ts HEADLINES): ingest-vs-copy, activations-rate,
   * knn-vs-pg-exact, knn-vs-blas, feature-neighbours, products-vs-blas, lineage-time, graphql-vs-sql,
   * hybrid-vs-single, search-quality, pglite-vs-postgres, soak.
   */
  headline?: string;
  /** The machine it ran on (filled in by run.ts from the suite's output when the suite leaves it out). */
  machine?: Machine;
}

export interface SuiteOutput {
  suite: string;
  mode: Mode;
  machine: Machine;
  rows: BenchRow[];
  /** Free text for the report: settings, caveats, what was skipped inside the suite and why. */
  notes?: string[];
  /** Anything else worth keeping in BENCHMARKS.json (histograms, raw samples, ...). */
  meta?: Record<string, unknown>;
}

export interface Machine {
  cores: number;
  cpu: string;
  memoryGiB: number;
  node: string;
  [k: string]: Scalar;
}

export function machine(): Machine {
  return baseMachine() as Machine;
}

export function benchMode(argv = process.argv.slice(2)): Mode {
  return argv.includes("--full") || process.env.MONOSCOPE_BENCH_MODE === "full" ? "full" : "quick";
}

/** Integer option `--name N` from argv, or the default. */
export function intArg(name: string, dflt: number, argv = process.argv.slice(2)): number {
  const i = argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(argv[i + 1]) : NaN;
  return Number.isFinite(v) ? v : dflt;
}

/** Logs to stderr (stdout carries the JSON result only). */
export const log = (...xs: unknown[]) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}]`, ...xs);

// ---------------------------------------------------------------------------------------------
// Timing

export interface Timing {
  samples: number[];
  median: number;
  p50: number;
  p99: number;
  mean: number;
  min: number;
  max: number;
}

export function summarize(samples: number[]): Timing {
  const mean = samples.reduce((a, b) => a + b, 0) / Math.max(1, samples.length);
  return {
    samples,
    median: percentile(samples, 50),
    p50: percentile(samples, 50),
    p99: percentile(samples, 99),
    mean,
    min: Math.min(...samples),
    max: Math.max(...samples),
  };
}

/** Wall-clock milliseconds of one call. */
export async function timeMs(fn: () => unknown): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

/** `warmup` untimed calls, then `reps` timed ones (ms). */
export async function measure(fn: (rep: number) => unknown, opts: { reps: number; warmup?: number }): Promise<Timing> {
  for (let i = 0; i < (opts.warmup ?? 1); i++) await fn(-1 - i);
  const samples: number[] = [];
  for (let r = 0; r < opts.reps; r++) samples.push(await timeMs(() => fn(r)));
  return summarize(samples);
}

/**
 * Several contenders measured call by call in turn (A, B, C, A, B, C, ...), so all see the same
 * machine load: the fair way to take a ratio on a shared, noisy machine.
 */
export async function measureAlternating<K extends string>(
  fns: Record<K, (rep: number) => unknown>,
  opts: { reps: number; warmup?: number },
): Promise<Record<K, Timing>> {
  const keys = Object.keys(fns) as K[];
  for (let i = 0; i < (opts.warmup ?? 1); i++) for (const k of keys) await fns[k](-1 - i);
  const samples = Object.fromEntries(keys.map((k) => [k, [] as number[]])) as Record<K, number[]>;
  for (let r = 0; r < opts.reps; r++) for (const k of keys) samples[k].push(await timeMs(() => fns[k](r)));
  return Object.fromEntries(keys.map((k) => [k, summarize(samples[k])])) as Record<K, Timing>;
}

/**
 * Closed-loop load: `clients` concurrent loops issuing `fn` until `total` calls are done.
 * Returns per-call latencies and the throughput (calls/s) over the whole run.
 */
export async function load(
  fn: (i: number) => Promise<unknown>,
  opts: { clients: number; total: number },
): Promise<Timing & { qps: number }> {
  const lat: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: opts.clients }, async () => {
      while (next < opts.total) {
        const i = next++;
        lat.push(await timeMs(() => fn(i)));
      }
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  return { ...summarize(lat), qps: opts.total / secs };
}

// ---------------------------------------------------------------------------------------------
// Rows

/** Attach a same-run baseline (and optionally the bar) to a row. */
export function compare(row: BenchRow, base: Pick<BenchRow, "name" | "backend" | "value">, target?: BenchRow["target"]): BenchRow {
  const ratio = base.value > 0 ? row.value / base.value : NaN;
  const out: BenchRow = { ...row, baseline: { name: base.name, backend: base.backend, value: base.value }, ratio: round(ratio, 3) };
  if (target) out.target = target;
  return checkTarget(out);
}

export function checkTarget(row: BenchRow): BenchRow {
  const t = row.target;
  if (!t) return row;
  const x = t.on === "ratio" ? row.ratio : row.value;
  if (x === undefined || !Number.isFinite(x)) return { ...row, targetMet: undefined };
  return { ...row, targetMet: t.op === "<=" ? x <= t.limit : x >= t.limit };
}

/** Print the suite's result as the single JSON document on stdout. */
export function emit(out: Omit<SuiteOutput, "machine" | "mode"> & Partial<Pick<SuiteOutput, "machine" | "mode">>): void {
  const doc: SuiteOutput = { mode: benchMode(), machine: machine(), ...out, rows: out.rows.map(checkTarget) };
  process.stdout.write(JSON.stringify(doc, null, 1) + "\n");
}

/**
 * When the orchestrator stops the suite at its timeout (SIGTERM), print what was measured so far
 * instead of nothing. Pass the live arrays the suite keeps pushing into. A long blocking call (a
 * build inside embedded PGlite) can keep the signal handler from running before the final SIGKILL,
 * so the rows are also snapshotted every few seconds to the file run.ts names in
 * MONOSCOPE_BENCH_PARTIAL, which it reads when the suite printed nothing.
 */
export function emitPartialOnTimeout(out: { suite: string; rows: BenchRow[]; notes?: string[]; meta?: Record<string, unknown> }): void {
  const partial = () => ({ ...out, notes: [...(out.notes ?? []), "stopped before the end (timeout): partial results"], meta: { ...out.meta, partial: true } });
  const file = process.env.MONOSCOPE_BENCH_PARTIAL;
  if (file) {
    let last = -1;
    setInterval(() => {
      if (out.rows.length === last) return;
      last = out.rows.length;
      const doc: SuiteOutput = { mode: benchMode(), machine: machine(), ...partial(), rows: out.rows.map(checkTarget) };
      writeFileSync(file, JSON.stringify(doc));
    }, 3000).unref();
  }
  process.once("SIGTERM", () => {
    emit(partial());
    process.exit(0);
  });
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

/**
 * The server to benchmark against: TEST_DATABASE_URL, DATABASE_URL, or the local cluster of
 * scripts/setup-postgres.sh (started if needed; it prints the URL as its last stdout line).
 * Returns null, with the reason, when none is reachable.
 */
export async function postgresUrl(): Promise<{ url: string; reason?: undefined } | { url: null; reason: string }> {
  const fromEnv = process.env.TEST_DATABASE_URL || process.env.DATABASE_URL;
  if (fromEnv) return { url: fromEnv };
  const script = fileURLToPath(new URL("../setup-postgres.sh", import.meta.url));
  const r = spawnSync("bash", [script, "start"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  const url = r.stdout.trim().split("\n").pop() ?? "";
  if (r.status !== 0 || !url.startsWith("postgres")) {
    return { url: null, reason: `setup-postgres.sh start failed: ${r.stderr.trim().split("\n").pop() ?? r.status}` };
  }
  return { url };
}

export interface BenchDatabase {
  /** URL of a fresh, empty database (extensions vector and pg_trgm created; not migrated). */
  url: string;
  drop(): Promise<void>;
}

/** A fresh database on the server for one suite run; drop() removes it. */
export async function createBenchDatabase(serverUrl: string, label = "bench"): Promise<BenchDatabase> {
  const name = `monoscope_${label.replace(/[^a-z0-9_]/gi, "_").toLowerCase()}_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(serverUrl);
  u.pathname = `/${name}`;
  const url = u.toString();
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query("CREATE EXTENSION IF NOT EXISTS vector; CREATE EXTENSION IF NOT EXISTS pg_trgm");
  await c.end();
  return {
    url,
    async drop() {
      const a = new pg.Client({ connectionString: serverUrl });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}

/** The server settings a baseline row should state (version, memory, parallelism, JIT). */
export async function postgresSettings(client: pg.Client | pg.Pool): Promise<Record<string, string>> {
  const names = [
    "server_version", "shared_buffers", "work_mem", "maintenance_work_mem", "effective_cache_size",
    "max_parallel_workers_per_gather", "max_parallel_maintenance_workers", "jit", "synchronous_commit",
  ];
  const r = await client.query<{ name: string; setting: string; unit: string | null }>(
    "SELECT name, current_setting(name) AS setting FROM pg_settings WHERE name = ANY($1)",
    [names],
  );
  const out: Record<string, string> = {};
  for (const row of r.rows) out[row.name] = row.setting;
  const v = await client.query<{ extversion: string }>("SELECT extversion FROM pg_extension WHERE extname = 'vector'");
  if (v.rows[0]) out.pgvector = v.rows[0].extversion;
  return out;
}

// ---------------------------------------------------------------------------------------------
// numpy / OpenBLAS

/**
 * The environment for the numpy baseline: OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE may be set on this
 * machine for old OpenBLAS builds and slow a current numpy down, so they are unset for that
 * subprocess only.
 */
export function baselineEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  return env;
}

const NUMPY_PROBE = `
import json, sys
out = {"python": sys.version.split()[0]}
import numpy as np
out["numpy"] = np.__version__
try:
    cfg = np.show_config(mode="dicts")
    b = cfg.get("Build Dependencies", {}).get("blas", {})
    out["blas"] = b.get("name"); out["blasVersion"] = b.get("version")
except Exception as e:
    out["blas"] = None
try:
    from threadpoolctl import threadpool_info
    info = [i for i in threadpool_info() if i.get("user_api") == "blas"]
    if info:
        out["kernel"] = info[0].get("architecture"); out["threads"] = info[0].get("num_threads"); out["via"] = "threadpoolctl"
except ImportError:
    import ctypes
    libs = {p for p in open("/proc/self/maps").read().split() if "openblas" in p and ".so" in p}
    for path in libs:
        lib = ctypes.CDLL(path)
        for name in ("scipy_openblas_get_corename64_", "openblas_get_corename64_", "openblas_get_corename"):
            fn = getattr(lib, name, None)
            if fn is not None:
                fn.restype = ctypes.c_char_p
                out["kernel"] = fn().decode(); out["via"] = "openblas_get_corename"
                break
print(json.dumps(out))
`;

export type NumpyInfo =
  | { available: true; python: string; numpy: string; blas: string | null; kernel?: string; threads?: number; via?: string }
  | { available: false; reason: string };

/** Whether python3 with numpy is there, and which BLAS kernel it runs (in the baseline env). */
export async function numpyInfo(): Promise<NumpyInfo> {
  try {
    const { stdout } = await promisify(execFile)("python3", ["-c", NUMPY_PROBE], { env: baselineEnv(), timeout: 30_000 });
    return { available: true, ...JSON.parse(stdout.trim().split("\n").pop() ?? "{}") };
  } catch (err) {
    const msg = (err as { stderr?: string; message: string }).stderr?.trim().split("\n").pop() || (err as Error).message;
    return { available: false, reason: `python3 numpy unavailable: ${msg}` };
  }
}

/** Cores, memory and CPU model, for the report header (same as machine(), typed loosely). */
export function machineSummary(): string {
  const c = cpus();
  return `${c.length} cores (${c[0]?.model ?? "unknown CPU"}), ${round(totalmem() / 2 ** 30, 1)} GiB RAM, Node ${process.version}`;
}
