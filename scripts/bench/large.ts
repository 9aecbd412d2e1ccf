// The million-feature suite: a generated SAE-like family (a smaller size and the large one, the
// generator's planted splits between them) written as float16 SAELens checkpoints, ingested with
// `monoscope ingest saelens` into PostgreSQL (the post-ingest steps build the neighbour lists and
// the lineage), then measured through `monoscope serve`. Resumable: every stage records its
// result in <dir>/state.json and is skipped on the next run; the database and checkpoints stay
// (an interrupted ingest is finished by the next ingest of the same checkpoint). Delete <dir>
// and DROP DATABASE <db> to start over.
//   node bin/run-ts.js scripts/bench/large.ts [--features 1048576] [--small 262144] [--d 2304] [--queries 100] [--sample 1000]
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, statfsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { ROOT, rssMiB, spawnServer } from "./api-harness.ts";
import { type BenchRow, emit, emitPartialOnTimeout, intArg, log, postgresUrl, round, summarize } from "./lib.ts";
import { planFamily } from "./generator.ts";
import { writeSaeLensCheckpoint } from "./safetensors-io.ts";

const N = intArg("features", 1_048_576);
const SMALL = intArg("small", 262_144);
const D = intArg("d", 2304);
const Q = intArg("queries", 100);
const S = intArg("sample", 1000);
const K = 32;
const DIR = join(ROOT, ".benchtmp", `large-${N}x${D}`);
const DB = `monoscope_large_${N}x${D}`;
const rows: BenchRow[] = [];
const notes: string[] = [];
emitPartialOnTimeout({ suite: "large", rows, notes });
mkdirSync(DIR, { recursive: true });
const statePath = join(DIR, "state.json");
const state: Record<string, Record<string, number | string>> = existsSync(statePath) ? JSON.parse(readFileSync(statePath, "utf8")) : {};
async function stage(name: string, run: () => Promise<Record<string, number | string>>) {
  if (state[name]) return log(`${name}: done in an earlier run`);
  log(`${name}: running`);
  state[name] = await run();
  writeFileSync(statePath, JSON.stringify(state, null, 2));
  recordRows();
}
const sizes = { features: N, d_in: D, small: SMALL };
const id = (n: number) => `large/${n}x${D}`;

// Disk: float16 checkpoints (W_dec + W_enc: 4·d bytes per feature) and PostgreSQL (measured 17.5 kB
// per feature at d_in 2304: halfvec decoder, float32 encoder, lists, indexes: ~8·d).
const fs = statfsSync(DIR);
const needGiB = ((N + SMALL) * D * (4 + 8)) / 2 ** 30;
const freeGiB = (fs.bavail * fs.bsize) / 2 ** 30;
notes.push(`disk: ${freeGiB.toFixed(0)} GiB free at start, about ${needGiB.toFixed(1)} GiB needed`);
if (freeGiB < needGiB * 1.1 && !state.ingest) throw new Error(`not enough disk: ${freeGiB.toFixed(0)} GiB free, ~${needGiB.toFixed(0)} GiB needed`);

const server = await postgresUrl();
if (!server.url) throw new Error(`PostgreSQL needed: ${server.reason}`);
const dbUrl = (() => {
  const u = new URL(server.url);
  u.pathname = `/${DB}`;
  return u.toString();
})();
{
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  const has = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [DB]);
  if (has.rowCount === 0) await admin.query(`CREATE DATABASE ${DB}`);
  await admin.end();
  const c = new pg.Client({ connectionString: dbUrl });
  await c.connect();
  await c.query("CREATE EXTENSION IF NOT EXISTS vector; CREATE EXTENSION IF NOT EXISTS pg_trgm");
  await c.end();
}

recordRows();
const [smallPlan, largePlan] = planFamily({ sizes: [SMALL, N], d: D, seed: 20 });
for (const [plan, n] of [[smallPlan, SMALL], [largePlan, N]] as const) {
  await stage(`checkpoint ${n}`, async () => {
    const t0 = performance.now();
    writeSaeLensCheckpoint(join(DIR, `ckpt-${n}`), plan, { modelName: `large-${D}`, dtype: "F16" });
    return { seconds: (performance.now() - t0) / 1000 };
  });
}

/** `monoscope ingest saelens` with info logs, its post-ingest steps' durations parsed from them. */
function ingest(n: number): Promise<Record<string, number | string>> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [join(ROOT, "bin", "monoscope.js"), "ingest", "saelens", join(DIR, `ckpt-${n}`), "--sae", id(n), "--model", `large-${D}`, "--family", `large-${D}`], {
      cwd: ROOT, env: { ...process.env, DATABASE_URL: dbUrl, MONOSCOPE_LOG_LEVEL: "info" }, stdio: ["ignore", "ignore", "pipe"],
    });
    let err = "";
    child.stderr!.on("data", (b: Buffer) => {
      err += b.toString();
      if (err.length > 1 << 20) err = err.slice(-(1 << 19));
    });
    child.on("exit", (code) => {
      if (code !== 0) return reject(new Error(`ingest of ${n} exited ${code}: ${err.slice(-2000)}`));
      const lists = /stored top-\d+ neighbours of \d+ features \([^)]*\) in ([\d.]+) s/.exec(err);
      const lineage = /split lineage of \d+ sizes rebuilt in ([\d.]+) s/.exec(err);
      // A post-ingest step that failed leaves the SAE ready without its lists: the stage is not
      // done (the next run's ingest of the same checkpoint retries the step).
      if (!lists) return reject(new Error(`ingest of ${n}: no neighbour lists were stored: ${err.slice(-2000)}`));
      resolve({ seconds: (performance.now() - t0) / 1000, "neighbour lists s": lists ? Number(lists[1]) : "not in the log", "lineage s": lineage ? Number(lineage[1]) : "not in the log" });
    });
  });
}
await stage(`ingest ${SMALL}`, () => ingest(SMALL));
await stage("ingest", () => ingest(N));

await stage("storage", async () => {
  const c = new pg.Client({ connectionString: dbUrl });
  await c.connect();
  await c.query("VACUUM ANALYZE feature");
  // feature is partitioned (by SAE): the parent's own size is 0, so sum its partitions'.
  const r = await c.query(
    "SELECT sum(pg_table_size(relid))::float8 AS t, sum(pg_indexes_size(relid))::float8 AS i, (SELECT count(*) FROM feature)::float8 AS n FROM pg_partition_tree('feature')",
  );
  await c.end();
  const { t, i, n } = r.rows[0];
  return { "table bytes/feature": t / n, "index bytes/feature": i / n, features: n };
});

// "Neighbour lists exist for every feature after its ingest": count them in the database.
await stage("lists", async () => {
  const c = new pg.Client({ connectionString: dbUrl });
  await c.connect();
  const r = await c.query(
    `SELECT count(*)::float8 AS features, count(*) FILTER (WHERE decoder IS NOT NULL)::float8 AS with_decoder,
            count(*) FILTER (WHERE cardinality(nn_indices) = $2)::float8 AS with_list
       FROM feature WHERE sae_id = $1`,
    [id(N), K],
  );
  await c.end();
  const { features, with_decoder, with_list } = r.rows[0];
  if (with_list !== with_decoder) throw new Error(`${id(N)}: ${with_list} of ${with_decoder} features with a decoder have a stored top-${K} list`);
  return { features, "with a decoder": with_decoder, [`with a stored top-${K} list`]: with_list };
});

await stage("serve", async () => {
  const srv = await spawnServer({ DATABASE_URL: dbUrl });
  const gql = async (query: string, variables: Record<string, unknown>) => {
    const res = await fetch(`${srv.url}/graphql`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query, variables }) });
    const j = (await res.json()) as { data?: any; errors?: unknown[] };
    if (j.errors) throw new Error(JSON.stringify(j.errors).slice(0, 500));
    return j.data;
  };
  try {
    const rand = (seed: number) => {
      let s = seed;
      return () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
    };
    const r = rand(7);
    const vq = `query($v: [Float!]!, $e: Boolean) { nearestToVector(vector: $v, saeIds: ["${id(N)}"], k: 10, exact: $e) { cosine feature { index } } }`;
    const t0 = performance.now();
    await gql(vq, { v: Array.from({ length: D }, r), e: false });
    const coldS = (performance.now() - t0) / 1000;
    const lat: number[] = [];
    let hits = 0;
    for (let q = 0; q < Q; q++) {
      const v = Array.from({ length: D }, r);
      const s = performance.now();
      const got = (await gql(vq, { v, e: false })).nearestToVector as { feature: { index: number } }[];
      lat.push(performance.now() - s);
      const want = new Set(((await gql(vq, { v, e: true })).nearestToVector as { feature: { index: number } }[]).map((h) => h.feature.index));
      hits += got.filter((h) => want.has(h.feature.index)).length;
    }
    const rss = rssMiB(srv.pid);
    // The noise floor: the median 32nd-best exact cosine of 20 random unit vectors; the recall that
    // counts is over exact neighbours at or above max(0.2, floor + 0.05) (issue 20).
    const kq = `query($v: [Float!]!) { nearestToVector(vector: $v, saeIds: ["${id(N)}"], k: ${K}, exact: true) { cosine } }`;
    const floors: number[] = [];
    for (let t = 0; t < 20; t++) {
      const hits32 = (await gql(kq, { v: Array.from({ length: D }, r) })).nearestToVector as { cosine: number }[];
      floors.push(hits32[K - 1].cosine);
    }
    floors.sort((a, b) => a - b);
    const floor = floors[10];
    const cut = Math.max(0.2, floor + 0.05);
    const fq = `query($i: Int!, $e: Boolean) { nearestFeatures(saeId: "${id(N)}", index: $i, k: ${K}, exact: $e) { cosine feature { index } } }`;
    const fl: number[] = [];
    let above = 0;
    let hitAbove = 0;
    let hitAll = 0;
    // A seeded random sample of S distinct features; every one is checked against its exact top 32.
    const sample = new Set<number>();
    while (sample.size < Math.min(S, N)) sample.add(Math.floor(((r() + 1) / 2) * N) % N);
    for (const i of sample) {
      const s = performance.now();
      const got = new Set(((await gql(fq, { i, e: false })).nearestFeatures as { feature: { index: number } }[]).map((h) => h.feature.index));
      fl.push(performance.now() - s);
      for (const w of (await gql(fq, { i, e: true })).nearestFeatures as { cosine: number; feature: { index: number } }[]) {
        if (got.has(w.feature.index)) hitAll++;
        if (w.cosine >= cut) {
          above++;
          if (got.has(w.feature.index)) hitAbove++;
        }
      }
    }
    const tv = summarize(lat);
    const tf = summarize(fl);
    const recallN = sample.size;
    return {
      "noise floor": floor, "recall cut": cut, "neighbours at or above the cut": above, "recall sample": recallN,
      "cold load s": coldS, "rss MiB": rss, "nearestToVector p50 ms": tv.p50, "nearestToVector p99 ms": tv.p99, "nearestToVector recall@10": hits / (Q * 10),
      "nearestFeatures p50 ms": tf.p50, "nearestFeatures p99 ms": tf.p99, "lists recall@32 above the cut": above ? hitAbove / above : "none above", "lists plain recall@32": hitAll / (recallN * K),
    };
  } finally {
    await srv.stop();
  }
});

/**
 * The rows of the stages done so far (this run or an earlier one), rebuilt after every stage: the
 * runner stops a quick-mode run at its budget (570 s), and what it prints then (emitPartialOnTimeout)
 * must carry the finished stages, or a resumable run that needs several budgets records no rows.
 */
function recordRows(): void {
  rows.length = 0;
  const st = (k: string) => state[k] ?? {};
  const num = (v: number | string | undefined) => (typeof v === "number" ? round(v, 3) : (v ?? null));
  const small = state[`ingest ${SMALL}`];
  if (small) rows.push({ suite: "large", name: `ingest of the smaller size ${SMALL} x ${D} (monoscope ingest saelens, float16 checkpoint, post-ingest steps included)`, backend: "postgres", sizes, reps: 1, metric: "throughput", unit: "features/s", value: round(SMALL / Number(small.seconds), 1), better: "higher", extra: Object.fromEntries(Object.entries(small).map(([k, v]) => [k, num(v)])) });
  if (state.ingest) rows.push({ suite: "large", name: `ingest (monoscope ingest saelens, float16 checkpoint, post-ingest steps included) ${N} x ${D}`, backend: "postgres", sizes, reps: 1, metric: "throughput", unit: "features/s", value: round(N / Number(st("ingest").seconds), 1), better: "higher", extra: Object.fromEntries(Object.entries(st("ingest")).map(([k, v]) => [k, num(v)])) });
  if (state.storage) rows.push({ suite: "large", name: "storage per feature", backend: "postgres", sizes, reps: 1, metric: "table + index bytes/feature", unit: "bytes", value: round(Number(st("storage")["table bytes/feature"]) + Number(st("storage")["index bytes/feature"])), better: "lower", extra: Object.fromEntries(Object.entries(st("storage")).map(([k, v]) => [k, num(v)])) });
  if (state.serve) rows.push({ suite: "large", name: "monoscope serve: nearestToVector (default, certified exact), nearestFeatures (stored lists)", backend: "postgres", sizes: { ...sizes, queries: Q, sample: S }, reps: Q, metric: "nearestToVector p50", unit: "ms", value: num(st("serve")["nearestToVector p50 ms"]) as number, better: "lower", extra: Object.fromEntries(Object.entries(st("serve")).map(([k, v]) => [k, num(v)])) });
  if (state.lists) rows.push({ suite: "large", name: `features of the ${N} x ${D} SAE with a stored top-${K} neighbour list after its ingest`, backend: "postgres", sizes, reps: 1, metric: "features with a list", unit: "features", value: num(st("lists")[`with a stored top-${K} list`]) as number, better: "higher", extra: Object.fromEntries(Object.entries(st("lists")).map(([k, v]) => [k, num(v)])) });
  if (state.ingest) rows.push({ suite: "large", name: `lineage ${SMALL} -> ${N} (post-ingest step of the larger ingest)`, backend: "postgres", sizes, reps: 1, metric: "build time", unit: "s", value: num(st("ingest")["lineage s"]) as number, better: "lower" });
}
recordRows();
notes.push(`state: ${statePath} (stages done: ${Object.keys(state).join(", ")})`);
emit({ suite: "large", rows, notes });
