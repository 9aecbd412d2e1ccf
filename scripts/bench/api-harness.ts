// Shared by the GraphQL benchmark (scripts/bench/graphql.ts) and the soak
// (scripts/soak.ts): a synthetic SAE loaded through the ingest service (so geometry
// and search build what they build after a real import), `monoscope serve` in a child
// process on a loopback port, its RSS, and autocannon runs. Loopback only.
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { createApp, type App } from "../../src/app.ts";
import { loadConfig, type Config } from "../../src/config.ts";
import { silentLogger } from "../../src/logger.ts";
import { decoderRow, planDecoders } from "./generator.ts";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

const WORDS = [
  "animal", "river", "music", "number", "colour", "city", "weather", "emotion", "food", "sport",
  "medicine", "law", "money", "war", "religion", "science", "language", "family", "machine", "plant",
];

export interface Dataset {
  saeId: string;
  features: number;
  dIn: number;
}

/** Deterministic pseudo-random numbers. */
export function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

export function benchConfig(env: NodeJS.ProcessEnv, dataDir: string): Config {
  return loadConfig({ ...env, MONOSCOPE_DATA_DIR: dataDir, MONOSCOPE_LOG_LEVEL: "warn" });
}

/** Loads the synthetic SAE unless an SAE of that id is already there. */
export async function ensureDataset(config: Config, d: Dataset, log: (s: string) => void): Promise<void> {
  const app = await createApp(config, { log: silentLogger });
  try {
    if (await app.services.sae.sae(d.saeId)) return;
    log(`loading a synthetic SAE ${d.saeId}: ${d.features} features × d_in ${d.dIn} (ingest + neighbour lists + search index)`);
    const t = Date.now();
    await ingestSynthetic(app, d);
    log(`loaded in ${((Date.now() - t) / 1000).toFixed(1)} s`);
  } finally {
    await app.close();
  }
}

async function ingestSynthetic(app: App, d: Dataset) {
  const rand = rng(7);
  // SAE-like decoders (neighbourhoods, near-duplicates, low-norm rows), as in the other suites.
  const plan = planDecoders({ n: d.features, d: d.dIn, seed: 7 });
  const modelId = d.saeId.split("/")[0];
  await app.services.ingest.ingestSae(
    {
      model: { id: modelId },
      sae: { id: d.saeId, architecture: "topk", dIn: d.dIn, dSae: d.features, k: 32 },
      source: { format: "native", path: "synthetic" },
      contentHash: `synthetic-sae-like-${d.features}-${d.dIn}`,
    },
    async (sink) => {
      const batch = 1024;
      for (let start = 0; start < d.features; start += batch) {
        const n = Math.min(batch, d.features - start);
        const rows = [];
        const acts = [];
        const labels = [];
        for (let i = start; i < start + n; i++) {
          const v = new Float32Array(d.dIn);
          decoderRow(plan, i, v);
          const w = WORDS[i % WORDS.length];
          rows.push({
            index: i,
            decoder: v,
            density: 10 ** (-1 - rand() * 4),
            maxActivation: 1 + rand() * 20,
            dashboard: { posLogits: [{ token: ` ${w}`, value: 3 }], negLogits: [{ token: " the", value: -1 }] },
          });
          for (let e = 0; e < 4; e++) {
            acts.push({ index: i, tokens: ["The", ` ${w}`, " of", " the", ` ${WORDS[(i + e) % WORDS.length]}`], values: [0, 5 - e, 0, 0, 1], kind: (e < 2 ? "top" : "quantile") as "top" | "quantile" });
          }
          labels.push({ index: i, text: `${w}s and ${WORDS[(i * 7) % WORDS.length]} terms` });
        }
        await sink.features(rows);
        await sink.activations(acts);
        await sink.explanations(labels);
      }
    },
  );
}

export interface ServerProcess {
  url: string;
  pid: number;
  /** With { gcHook: true }: a full GC in the server, then its memory (bytes). */
  collectGarbage(): Promise<{ rss: number; heapUsed: number; external: number }>;
  stop(): Promise<void>;
}

/**
 * `monoscope serve` on a free loopback port, with the given environment. gcHook preloads
 * scripts/bench/gc-on-signal.cjs (SIGUSR2 → full GC + memory figures) for the soak.
 */
export async function spawnServer(env: Record<string, string>, opts: { gcHook?: boolean } = {}): Promise<ServerProcess> {
  const pre = [
    ...(opts.gcHook ? ["--expose-gc", "--require", join(ROOT, "scripts", "bench", "gc-on-signal.cjs")] : []),
    // MONOSCOPE_BENCH_CPU_PROF=<dir>: the server writes a V8 CPU profile there when it stops.
    ...(process.env.MONOSCOPE_BENCH_CPU_PROF ? ["--cpu-prof", `--cpu-prof-dir=${process.env.MONOSCOPE_BENCH_CPU_PROF}`] : []),
  ];
  const child: ChildProcess = spawn(process.execPath, [...pre, join(ROOT, "bin", "monoscope.js"), "serve", "--port", "0", "--host", "127.0.0.1"], {
    cwd: ROOT,
    env: { ...process.env, MONOSCOPE_LOG_LEVEL: "warn", MONOSCOPE_RATE_LIMIT_PER_MINUTE: "0", ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in 120 s:\n${stderr}`)), 120_000);
    child.stderr!.on("data", (b: Buffer) => {
      stderr += b.toString();
      const m = /GraphQL API at (http:\/\/[^\s]+)\/graphql/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.on("exit", (code) => reject(new Error(`server exited (${code}):\n${stderr}`)));
  });
  return {
    url,
    pid: child.pid!,
    async collectGarbage() {
      const seen = stderr.length;
      child.kill("SIGUSR2");
      for (let waited = 0; waited < 30_000; waited += 50) {
        const m = /soak-gc: rss=(\d+) heapUsed=(\d+) external=(\d+)/.exec(stderr.slice(seen));
        if (m) return { rss: Number(m[1]), heapUsed: Number(m[2]), external: Number(m[3]) };
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error("the server did not answer the GC signal (started without gcHook?)");
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
      if (child.exitCode === null) child.kill("SIGKILL");
    },
  };
}

/** Resident set size of a process in MiB (Linux). */
export function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
}

export interface LoadResult {
  requests: number;
  requestsPerSecond: number;
  p50: number;
  p90: number;
  p99: number;
  mean: number;
  errors: number;
  non2xx: number;
  timeouts: number;
  graphqlErrors: number;
}

/**
 * Drives POST /graphql with bodies from `next` (called per request) for `seconds`,
 * counting responses that carry GraphQL errors as failures too.
 */
/** headersOf: extra headers for each request, from its body (e.g. the SAE for routing by SAE). */
export async function load(
  url: string,
  next: () => unknown,
  o: { connections: number; seconds: number; headersOf?: (body: any) => Record<string, string> },
): Promise<LoadResult> {
  let graphqlErrors = 0;
  const r = await autocannon({
    url: `${url}/graphql`,
    method: "POST",
    connections: o.connections,
    duration: o.seconds,
    timeout: 30,
    headers: { "content-type": "application/json" },
    requests: [{ setupRequest: (req: any) => {
      const body = next();
      return { ...req, body: JSON.stringify(body), ...(o.headersOf ? { headers: { ...req.headers, ...o.headersOf(body) } } : {}) };
    }, onResponse: (status: number, body: string) => {
      if (status === 200 && body.includes('"errors"')) graphqlErrors++;
    } } as any],
  });
  return {
    requests: r.requests.total,
    requestsPerSecond: r.requests.average,
    p50: r.latency.p50,
    p90: r.latency.p90,
    p99: r.latency.p99,
    mean: r.latency.average,
    errors: r.errors,
    non2xx: r.non2xx,
    timeouts: r.timeouts,
    graphqlErrors,
  };
}

/** One POST, for checking a query works before loading it. */
export async function once(url: string, body: unknown): Promise<any> {
  const res = await fetch(`${url}/graphql`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  return res.json();
}

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export function parseArgs(argv: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith("--")) continue;
    const [k, v] = a.slice(2).split("=", 2);
    if (v !== undefined) out[k] = v;
    else if (argv[i + 1] && !argv[i + 1].startsWith("--")) out[k] = argv[++i];
    else out[k] = "true";
  }
  return out;
}
