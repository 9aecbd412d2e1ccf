// A direct Monoscope vs PostGraphile v4 run of the deploy suite's feature-page query, without the
// cluster: one `monoscope serve` and one PostGraphile on the same PostgreSQL (DATABASE_URL, e.g.
// from scripts/setup-postgres.sh), same data, same pool size, 16 clients, ABBA alternation, after
// the suite's equal-data check. Prints req/s, p99 and SQL statements per page.
//   DATABASE_URL=... node bin/run-ts.js scripts/bench/feature-page.ts [--seconds 5] [--reps 2] [--features 4096]
// FEATURE_PAGE_BASELINE_URL: another Monoscope server on the same database (an older build), run
// in the same rotation, so before and after are measured side by side.
import { join } from "node:path";
import pg from "pg";
import { benchConfig, ensureDataset, load, type LoadResult, once, ROOT, spawnServer } from "./api-harness.ts";
import { assertEqualPages, createNeighbourFunction, installPostgraphile, monoscopeFeatureQuery, postgraphileFeatureQuery, startPostgraphile } from "./deploy-postgraphile.ts";
import { intArg } from "./lib.ts";

const url = process.env.DATABASE_URL;
if (!url) throw new Error("set DATABASE_URL (scripts/setup-postgres.sh prints one)");
const seconds = intArg("seconds", 5);
const reps = intArg("reps", 2);
const features = intArg("features", 4096);
const POOL = intArg("pool", 8);
const CLIENTS = 16;
const saeId = `bench-deploy/${features}`;
const log = (s: string) => process.stderr.write(`[feature-page] ${s}\n`);

await ensureDataset(benchConfig({ DATABASE_URL: url }, join(ROOT, ".benchtmp", "feature-page-data")), { saeId, features, dIn: 128 }, log);
const c = new pg.Client({ connectionString: url });
await c.connect();
for (let i = 0; (await c.query("SELECT count(*)::int AS n FROM feature WHERE sae_id = $1 AND decoder IS NOT NULL AND nn_indices IS NULL", [saeId])).rows[0].n > 0; i++) {
  if (i > 600) throw new Error("neighbour lists were not built within 5 minutes");
  await new Promise((r) => setTimeout(r, 500));
}
await c.end();
await createNeighbourFunction(url);

const mono = await spawnServer({ DATABASE_URL: url, MONOSCOPE_DB_POOL_SIZE: String(POOL) });
const prefix = join(ROOT, ".benchtmp", "postgraphile-v4");
installPostgraphile(prefix, log);
const peer = await startPostgraphile(prefix, url, POOL);
try {
  const mq = monoscopeFeatureQuery(10, 10);
  const pq = await postgraphileFeatureQuery(peer.url, 10, 10);
  await assertEqualPages(mono.url, mq, peer.url, pq, saeId, features);
  log("equal feature pages for 25 features");
  let counter = 0;
  const nextIndex = () => (counter++ * 7919) % features;
  const run = async (u: string, q: string): Promise<LoadResult> => {
    const next = () => ({ query: q, variables: { s: saeId, i: nextIndex() } });
    await load(u, next, { connections: CLIENTS, seconds: 1 });
    const r = await load(u, next, { connections: CLIENTS, seconds });
    if (r.errors || r.non2xx || r.timeouts || r.graphqlErrors) throw new Error(`${u}: ${r.errors} errors, ${r.non2xx} non-2xx, ${r.timeouts} timeouts, ${r.graphqlErrors} GraphQL errors`);
    return r;
  };
  const m: LoadResult[] = [];
  const g: LoadResult[] = [];
  const b: LoadResult[] = [];
  const baseline = process.env.FEATURE_PAGE_BASELINE_URL;
  if (baseline) await assertEqualPages(baseline, mq, peer.url, pq, saeId, features);
  // Each rep rotates the order, so a drift in the machine's background load falls on all alike.
  const contenders: [LoadResult[], string, string][] = [[m, mono.url, mq], [g, peer.url, pq], ...(baseline ? [[b, baseline, mq] as [LoadResult[], string, string]] : [])];
  for (let i = 0; i < reps; i++) {
    for (let j = 0; j < contenders.length; j++) {
      const [out, u, q] = contenders[(i + j) % contenders.length]!;
      out.push(await run(u, q));
    }
  }
  const statements = async () => Number(/^monoscope_db_statements_total (\d+)/m.exec(await (await fetch(`${mono.url}/metrics`)).text())?.[1]);
  // Requests the load generator abandoned at its deadline still run on the server: let them finish first.
  await new Promise((r) => setTimeout(r, 2000));
  const s0 = await statements();
  for (let k = 0; k < 50; k++) await once(mono.url, { query: mq, variables: { s: saeId, i: nextIndex() } });
  const perPage = ((await statements()) - s0) / 50;
  const fmt = (rs: LoadResult[]) => rs.map((r) => `${Math.round(r.requestsPerSecond)} req/s p99 ${r.p99} ms`).join(" | ");
  console.log(`monoscope:    ${fmt(m)}\npostgraphile: ${fmt(g)}${baseline ? `\nbaseline:     ${fmt(b)}` : ""}`);
  const med = (rs: LoadResult[]) => [...rs].sort((x, y) => x.requestsPerSecond - y.requestsPerSecond)[Math.floor(rs.length / 2)]!;
  for (const [name, rs] of [["monoscope", m], ["postgraphile", g], ...(baseline ? [["baseline", b]] : [])] as [string, LoadResult[]][])
    console.log(`median ${name}: ${Math.round(med(rs).requestsPerSecond)} req/s p99 ${med(rs).p99} ms`);
  const ratio = m.map((r, i) => (r.requestsPerSecond / g[i]!.requestsPerSecond).toFixed(2));
  // The second scrape's own statements (metrics gauges) are not the pages': measured alone and taken off.
  const s1 = await statements();
  const scrape = (await statements()) - s1;
  console.log(`ratio per pair: ${ratio.join(" ")}; statements per page: ${((perPage * 50 - scrape) / 50).toFixed(1)}`);
} finally {
  await peer.stop();
  await mono.stop();
}
