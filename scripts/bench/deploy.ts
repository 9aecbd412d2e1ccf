// The deploy suite: the feature-page query (labels, top activations, neighbours from the stored
// lists) at 16 clients on the cluster of scripts/cluster.sh (primary, streaming standby,
// PgBouncer, API replicas, HAProxy, all on loopback):
//   - through HAProxy with 1 and with 2 API replicas;
//   - SAE-affinity routing: exact nearestFeatures (the decoder-matrix cache) over AFFINITY_SAES SAEs
//     on the 2 replicas, each with a cache budget of AFFINITY_HOLD matrices, balanced round robin vs
//     by a consistent hash of the SAE (HAProxy on N+8), with each replica's cache loads counted;
//   - one API process with its reads on the primary vs on the standby;
//   - Monoscope vs PostGraphile v4 (production settings, same database, same pool size, same
//     indexes, neighbours through a SQL function over the same stored lists), after checking both
//     return equal data. Bar: Monoscope's req/s ÷ PostGraphile's >= 1.0.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { benchConfig, ensureDataset, load, type LoadResult, once, ROOT, spawnServer } from "./api-harness.ts";
import {
  assertEqualPages,
  createNeighbourFunction,
  installPostgraphile,
  monoscopeFeatureQuery,
  POSTGRAPHILE,
  postgraphileFeatureQuery,
  startPostgraphile,
} from "./deploy-postgraphile.ts";
import { matrixBytesPerFeature } from "../../src/modules/geometry/matrix-cache.ts";
import { benchMode, type BenchRow, compare, emit, emitPartialOnTimeout, intArg, median } from "./lib.ts";

const mode = benchMode();
const seconds = intArg("seconds", mode === "full" ? 10 : 5);
const features = intArg("features", mode === "full" ? 16384 : 4096);
const basePort = intArg("base-port", 55500);
// The machine is shared: contenders alternate (ABBA order, so a drift in the background load
// falls on both alike) and each figure is the median of its runs.
const reps = mode === "full" ? 6 : 2;
const CLIENTS = 16;
const POOL = 8;
const ACTIVATIONS = 10;
const NEIGHBOURS = 10;
const dIn = 128;
const saeId = `bench-deploy/${features}`;
const AFFINITY_SAES = 8;
const AFFINITY_HOLD = 5;
const AFFINITY_FEATURES = 2048;
const AFFINITY_D = 512;
const affinityIds = Array.from({ length: AFFINITY_SAES }, (_, i) => `bench-affinity/${i}`);
const root = join(ROOT, ".benchtmp", "deploy-cluster");
const log = (s: string) => process.stderr.write(`[deploy] ${s}\n`);
const rows: BenchRow[] = [];
const notes: string[] = [];
emitPartialOnTimeout({ suite: "deploy", rows, notes });

const cluster = (verb: string) => execFileSync("bash", [join(ROOT, "scripts", "cluster.sh"), verb, "--root", root, "--base-port", String(basePort)], { stdio: ["ignore", 2, 2] });
const clusterEnv = () =>
  Object.fromEntries(
    readFileSync(join(root, "cluster.env"), "utf8")
      .trim()
      .split("\n")
      .map((l) => l.split("=", 2) as [string, string]),
  ) as Record<string, string>;

const monoscopeQuery = monoscopeFeatureQuery(ACTIVATIONS, NEIGHBOURS);
let counter = 0;
// A stride through the SAE, so requests touch many rows (not one cached page).
const nextIndex = () => (counter++ * 7919) % features;
const monoscopeBody = () => ({ query: monoscopeQuery, variables: { s: saeId, i: nextIndex() } });

/** reps runs of each contender, alternating in ABBA order. */
async function alternate(a: () => Promise<LoadResult>, b: () => Promise<LoadResult>): Promise<[LoadResult[], LoadResult[]]> {
  const ra: LoadResult[] = [];
  const rb: LoadResult[] = [];
  for (let i = 0; i < reps; i++) {
    if (i % 2 === 0) ra.push(await a()), rb.push(await b());
    else rb.push(await b()), ra.push(await a());
  }
  return [ra, rb];
}

async function run(url: string, next: () => unknown, headersOf?: (body: any) => Record<string, string>): Promise<LoadResult> {
  await load(url, next, { connections: CLIENTS, seconds: 1, headersOf }); // warm-up: pools, caches, JIT
  const r = await load(url, next, { connections: CLIENTS, seconds, headersOf });
  if (r.errors || r.non2xx || r.timeouts || r.graphqlErrors) throw new Error(`${url}: ${r.errors} errors, ${r.non2xx} non-2xx, ${r.timeouts} timeouts, ${r.graphqlErrors} GraphQL errors`);
  return r;
}

const row = (name: string, backend: string, r: LoadResult, extra: BenchRow["extra"] = {}): BenchRow => ({
  suite: "deploy",
  name,
  backend,
  sizes: { features, d_in: dIn, clients: CLIENTS },
  params: { pool: POOL, activations: ACTIVATIONS, neighbours: NEIGHBOURS, seconds },
  reps,
  metric: "throughput",
  unit: "req/s",
  value: Math.round(r.requestsPerSecond),
  better: "higher",
  extra: { p50_ms: r.p50, p99_ms: r.p99, requests: r.requests, ...extra },
});

async function waitForLists(url: string) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    for (let i = 0; i < 600; i++) {
      const { rows: r } = await c.query("SELECT count(*)::int AS n FROM feature WHERE sae_id = $1 AND decoder IS NOT NULL AND nn_indices IS NULL", [saeId]);
      if (r[0].n === 0) return;
      await new Promise((res) => setTimeout(res, 500));
    }
    throw new Error("neighbour lists were not built within 5 minutes");
  } finally {
    await c.end();
  }
}

// A random SAE and feature per request (a fixed stride would fall in step with round robin).
let seed = 12345;
const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
const affinityQuery = "query Near($s: ID!, $i: Int!) { nearestFeatures(saeId: $s, index: $i, k: 10, exact: true) { feature { index } cosine } }";
const affinityBody = () => ({ query: affinityQuery, variables: { s: affinityIds[Math.floor(rand() * AFFINITY_SAES)]!, i: Math.floor(rand() * AFFINITY_FEATURES) } });
const bySae = (body: { variables: { s: string } }) => ({ "monoscope-sae": body.variables.s });

/** A replica's decoder-matrix cache, from its /metrics. */
async function cacheOf(port: number): Promise<{ loads: number; matrices: number; bytes: number }> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const v = (series: string) => Number(text.split("\n").find((l) => l.startsWith(`${series} `))?.slice(series.length + 1) ?? NaN);
  return { loads: v("monoscope_matrix_cache_loads_total"), matrices: v("monoscope_matrix_cache_matrices"), bytes: v('monoscope_matrix_cache_bytes{kind="held"}') };
}

async function affinity(lb: string, lbSae: string) {
  const ports = [basePort + 3, basePort + 4];
  const once1 = async (url: string, headers: boolean) => {
    const before = await Promise.all(ports.map(cacheOf));
    const r = await run(url, affinityBody, headers ? bySae : undefined);
    const after = await Promise.all(ports.map(cacheOf));
    return { r, loads: after.reduce((a, x, i) => a + x.loads - before[i]!.loads, 0), matrices: after.map((x) => x.matrices), mib: after.map((x) => Math.round(x.bytes / 2 ** 20)) };
  };
  type Run = Awaited<ReturnType<typeof once1>>;
  const rr: Run[] = [];
  const hashed: Run[] = [];
  for (let i = 0; i < reps; i++) {
    if (i % 2 === 0) rr.push(await once1(lb, false)), hashed.push(await once1(lbSae, true));
    else hashed.push(await once1(lbSae, true)), rr.push(await once1(lb, false));
  }
  const pick = (rs: Run[]) => rs.sort((a, b) => a.r.requestsPerSecond - b.r.requestsPerSecond)[Math.floor(rs.length / 2)]!;
  const rowOf = (name: string, x: Run): BenchRow => ({
    ...row(name, "haproxy", x.r, {
      cache_loads_per_1000_requests: Math.round((1000 * x.loads) / Math.max(1, x.r.requests)),
      matrices_held_per_replica: x.matrices.join(" / "),
      cache_mib_per_replica: x.mib.join(" / "),
    }),
    sizes: { saes: AFFINITY_SAES, features: AFFINITY_FEATURES, d_in: AFFINITY_D, clients: CLIENTS, replicas: 2 },
    params: { query: "nearestFeatures exact", cacheBudgetMatrices: AFFINITY_HOLD, seconds },
  });
  const base = rowOf("exact nearestFeatures over 8 SAEs, 2 replicas caching 5 matrices each, round robin", pick(rr));
  rows.push(base, compare(rowOf("exact nearestFeatures over 8 SAEs, 2 replicas caching 5 matrices each, routed by SAE (consistent hash)", pick(hashed)), base));
  notes.push(
    `SAE affinity: HAProxy \`balance hdr(Monoscope-SAE)\` with \`hash-type consistent\` on the same two replicas; each request names a random one of ${AFFINITY_SAES} SAEs (${AFFINITY_FEATURES} features × d_in ${AFFINITY_D}) in the header and asks for its exact nearest features, which scans the SAE's decoder matrix. MONOSCOPE_MATRIX_CACHE_BYTES on each replica holds ${AFFINITY_HOLD} of the ${AFFINITY_SAES} matrices; cache loads count the matrices a replica read from the database during the run (warm-up included).`,
  );
}

async function main() {
  // The replicas' matrix cache holds AFFINITY_HOLD of the affinity SAEs' matrices (the feature page needs none).
  process.env.MONOSCOPE_MATRIX_CACHE_BYTES = String(AFFINITY_HOLD * AFFINITY_FEATURES * matrixBytesPerFeature(AFFINITY_D, true) + 2 ** 20);
  log(`cluster up in ${root} (ports from ${basePort})`);
  cluster("up");
  const { LB_URL: lb, LB_SAE_URL: lbSae, PRIMARY_URL: primary, STANDBY_URL: standby } = clusterEnv();
  const lb1 = lb!.replace(/:(\d+)$/, (_, p: string) => `:${Number(p) + 2}`);
  await ensureDataset(benchConfig({ DATABASE_URL: primary }, join(root, "bench-data")), { saeId, features, dIn }, log);
  for (const id of affinityIds) await ensureDataset(benchConfig({ DATABASE_URL: primary }, join(root, "bench-data")), { saeId: id, features: AFFINITY_FEATURES, dIn: AFFINITY_D }, log);
  await waitForLists(primary!);
  await createNeighbourFunction(primary!);
  execFileSync(process.execPath, [join(ROOT, "bin", "run-ts.js"), join(ROOT, "scripts", "cluster-tool.ts"), "wait-replay", "--primary", primary!, "--standby", standby!], { stdio: ["ignore", 2, 2] });

  log("through HAProxy: 1 and 2 API replicas (reads on the standby)");
  const [one, two] = await alternate(
    () => run(lb1, monoscopeBody),
    () => run(lb!, monoscopeBody),
  );
  const med = (rs: LoadResult[]) => rs.sort((a, b) => a.requestsPerSecond - b.requestsPerSecond)[Math.floor(rs.length / 2)]!;
  const r1 = row("feature page through HAProxy, 1 API replica", "haproxy", med(one));
  rows.push(r1, compare(row("feature page through HAProxy, 2 API replicas", "haproxy", med(two)), r1));

  log(`SAE-affinity routing: ${AFFINITY_SAES} SAEs, replicas caching ${AFFINITY_HOLD} matrices each, round robin vs by SAE`);
  await affinity(lb!, lbSae!);

  // One API process straight to PostgreSQL (no pooler), reads on the primary or on the standby.
  const onPrimary = await spawnServer({ DATABASE_URL: primary!, MONOSCOPE_DB_POOL_SIZE: String(POOL) });
  const onStandby = await spawnServer({ DATABASE_URL: primary!, DATABASE_READ_URLS: standby!, MONOSCOPE_DB_POOL_SIZE: String(POOL) });
  const prefix = join(ROOT, ".benchtmp", "postgraphile-v4");
  installPostgraphile(prefix, log);
  const peer = await startPostgraphile(prefix, primary!, POOL);
  try {
    log("one API process: reads on the primary vs on the standby");
    const [p, s] = await alternate(
      () => run(onPrimary.url, monoscopeBody),
      () => run(onStandby.url, monoscopeBody),
    );
    const rp = row("feature page, one API process, reads on the primary", "postgres", med(p));
    rows.push(rp, compare(row("feature page, one API process, reads on the standby", "postgres", med(s)), rp));

    log(`Monoscope vs PostGraphile ${POSTGRAPHILE.version}: equal data first`);
    const peerQuery = await postgraphileFeatureQuery(peer.url, ACTIVATIONS, NEIGHBOURS);
    await assertEqualPages(onPrimary.url, monoscopeQuery, peer.url, peerQuery, saeId, features);
    notes.push(`Monoscope and PostGraphile ${POSTGRAPHILE.version} returned equal feature pages (labels, ${ACTIVATIONS} top activations, ${NEIGHBOURS} neighbours) for 25 features before the load.`);
    const peerBody = () => ({ query: peerQuery, variables: { s: saeId, i: nextIndex() } });
    const [m, g] = await alternate(
      () => run(onPrimary.url, monoscopeBody),
      () => run(peer.url, peerBody),
    );
    // Statements per feature page, from the server's own counter (the database's view of the cost).
    const statements = async () => Number(/^monoscope_db_statements_total (\d+)/m.exec(await (await fetch(`${onPrimary.url}/metrics`)).text())?.[1]);
    // Requests the load generator abandoned at its deadline still run on the server: let them finish first.
    await new Promise((r) => setTimeout(r, 2000));
    const s0 = await statements();
    for (let k = 0; k < 50; k++) await once(onPrimary.url, monoscopeBody());
    const perPage = ((await statements()) - s0) / 50;
    notes.push(
      `Monoscope sends ${perPage.toFixed(1)} SQL statements per feature page (feature, labels, activations, neighbour list: one batched statement each); PostGraphile compiles the whole operation into one SQL query. On this machine the per-statement round trips (socket writes were the largest self-time in a CPU profile of the server) decide the ratio.`,
    );
    const mm = med(m);
    const gg = med(g);
    const base = row(`PostGraphile ${POSTGRAPHILE.version} feature page (production settings)`, "postgraphile", gg);
    rows.push(base);
    rows.push(
      compare(row("Monoscope feature page vs PostGraphile v4", "monoscope:postgres", mm, { postgraphile_p99_ms: gg.p99, postgraphile_rps: Math.round(gg.requestsPerSecond) }), base, {
        on: "ratio",
        op: ">=",
        limit: 1.0,
        source: "issue 19",
      }),
    );
    notes.push(
      `Same database, pool size ${POOL} on both, ${CLIENTS} clients, ${seconds} s per run, ${reps} runs each alternating in ABBA order, the median run reported; PostGraphile with watchPg false, disableQueryLog true, graphiql false, dynamicJson, setofFunctionsContainNulls false; neighbours through public.feature_neighbours(feature, k) over feature.nn_indices/nn_cosines.`,
      `Median req/s over runs: ${median(m.map((x) => x.requestsPerSecond))?.toFixed(0)} (Monoscope) vs ${median(g.map((x) => x.requestsPerSecond))?.toFixed(0)} (PostGraphile).`,
      "Everything (load generator, API processes, PostgreSQL primary and standby, PgBouncer, HAProxy) shares the machine's 2 cores: a second API replica cannot add a core, so the 2-replica figure measures the balancer's overhead and failover headroom more than scale-out.",
    );
  } finally {
    await peer.stop();
    await onPrimary.stop();
    await onStandby.stop();
  }
}

try {
  await main();
  emit({ suite: "deploy", rows, notes });
} finally {
  try {
    cluster("down");
  } catch {
    /* already down */
  }
}
