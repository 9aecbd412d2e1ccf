// GraphQL API benchmark: requests/s and latency p50/p99 for a feature lookup, a
// nearest-feature query and a concept search at concurrency 1 and 16 (autocannon
// against `monoscope serve` on loopback), and the nearest-feature p50 through GraphQL
// next to the same repository SQL issued directly in process. Prints one JSON object.
//
//   node bin/run-ts.js scripts/bench/graphql.ts [--features 4096] [--d-in 256] [--seconds 10]
//       [--data-dir DIR]      embedded database (default: a fresh temp dir, or DATABASE_URL for PostgreSQL)
//       [--sae-id ID]         benchmark an SAE already in the database instead of a synthetic one
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type App, createApp } from "../../src/app.ts";
import { silentLogger } from "../../src/logger.ts";
import { GeometryRepository } from "../../src/modules/geometry/geometry.repository.ts";
import { benchConfig, ensureDataset, load, once, parseArgs, percentile, rng, spawnServer } from "./api-harness.ts";

const args = parseArgs(process.argv.slice(2));
const features = Number(args.features ?? 4096);
const dIn = Number(args["d-in"] ?? 256);
const seconds = Number(args.seconds ?? 10);
const saeId = args["sae-id"] ?? `bench-model/synthetic-${features}x${dIn}`;
const log = (s: string) => process.stderr.write(`bench:graphql: ${s}\n`);

const tempDir = args["data-dir"] ? null : mkdtempSync(join(tmpdir(), "monoscope-bench-"));
const dataDir = args["data-dir"] ?? tempDir!;
const config = benchConfig(process.env, dataDir);

const QUERIES = {
  featureLookup: `query FeatureLookup($s: ID!, $i: Int!) { feature(saeId: $s, index: $i) { id label density maxActivation topActivations(first: 5) { maxValue text } } }`,
  nearestFeatures: `query Nearest($s: ID!, $i: Int!) { nearestFeatures(saeId: $s, index: $i, k: 10) { cosine feature { index } } }`,
  searchConcepts: `query Search($q: String!) { searchConcepts(query: $q, k: 10) { score matchedText feature { id } } }`,
};
const TERMS = ["animal", "river music", "weather", "emotion", "sport medicine", "money", "language family", "machine"];

async function main() {
  await ensureDataset(config, { saeId, features, dIn }, log);
  const env: Record<string, string> = { MONOSCOPE_DATA_DIR: dataDir };
  if (config.database.kind === "postgres") env.DATABASE_URL = config.database.url;
  const rand = rng(11);
  const nextIndex = () => Math.floor(rand() * features);
  const bodies = {
    featureLookup: () => ({ query: QUERIES.featureLookup, variables: { s: saeId, i: nextIndex() } }),
    nearestFeatures: () => ({ query: QUERIES.nearestFeatures, variables: { s: saeId, i: nextIndex() } }),
    searchConcepts: () => ({ query: QUERIES.searchConcepts, variables: { q: TERMS[Math.floor(rand() * TERMS.length)] } }),
  };

  const server = await spawnServer(env);
  const results: Record<string, unknown>[] = [];
  let fine: Record<string, Timing> = {};
  try {
    for (const [name, body] of Object.entries(bodies)) {
      const check = await once(server.url, body());
      if (check.errors) throw new Error(`${name} fails before the benchmark: ${JSON.stringify(check.errors).slice(0, 300)}`);
      await load(server.url, body, { connections: 4, seconds: 2 }); // warm-up (caches, JIT)
      for (const connections of [1, 16]) {
        log(`${name} at concurrency ${connections} for ${seconds} s`);
        results.push({ query: name, concurrency: connections, ...(await load(server.url, body, { connections, seconds })) });
      }
    }
    // autocannon reports whole milliseconds; the side-by-side figures below are timed per
    // request with performance.now() on one keep-alive connection, requests in sequence.
    log(`nearest side by side: GraphQL requests and the HTTP floor, ${seconds} s each`);
    const post = keepAlivePoster(server.url);
    fine = await timeSideBySide(
      {
        graphql: () => post(bodies.nearestFeatures()),
        httpFloor: () => post({ query: "{ __typename }" }),
      },
      seconds,
    );
    post.close();
  } finally {
    await server.stop();
  }

  // The same work without GraphQL and HTTP, measured with the server stopped (an embedded
  // database can be open in one process only): the statement nearestFeatures issues (the
  // geometry repository's neighbour-list read, for k <= the stored list) through the
  // repository, the same SQL text through the bare driver, and the service call.
  const app = await createApp(config, { log: silentLogger, migrate: false });
  const direct: Record<string, unknown> = {};
  try {
    const repo = new GeometryRepository(app.db);
    const before = app.db.stats.statements;
    await app.services.geometry.nearest.nearestFeatures({ saeId, index: 0 }, { k: 10 });
    direct.statementsPerNearestCall = app.db.stats.statements - before;
    const bare = bareSql(app);
    log(`nearest direct: the SQL through the bare driver, the repository and the service, ${seconds} s each`);
    Object.assign(
      fine,
      await timeSideBySide(
        {
          sql: () => bare(saeId, nextIndex()),
          repository: () => repo.neighbourLists([{ saeId, index: nextIndex() }]),
          service: () => app.services.geometry.nearest.nearestFeatures({ saeId, index: nextIndex() }, { k: 10 }),
        },
        seconds,
      ),
    );
  } finally {
    await app.close();
  }

  const floor = fine.httpFloor.p50;
  const notes = [
    "Requests/s and p50/p99 per query come from autocannon (whole milliseconds) against `monoscope serve` on loopback, rate limit off.",
    `Side by side (per-request performance.now(), requests in sequence on one keep-alive connection): nearestFeatures(k: 10) through GraphQL p50 ${fine.graphql.p50} ms; ` +
      `the HTTP round trip alone (\`{ __typename }\` through the same server) ${floor} ms; the resolver's one statement through the bare driver ${fine.sql.p50} ms, ` +
      `through the repository ${fine.repository.p50} ms, the whole service call ${fine.service.p50} ms.`,
    "The ratio divides the GraphQL p50 by the bare statement's p50. A loopback HTTP round trip costs more here than a sub-millisecond indexed statement " +
      "(socket writes dominate the server's profile), so for lookups answered by one such statement the ratio is bounded below by (HTTP floor + SQL) / SQL.",
  ];
  const out = {
    benchmark: "graphql-api",
    notes,
    backend: config.database.kind,
    dataset: { saeId, features, dIn },
    secondsPerRun: seconds,
    machine: { cpus: (await import("node:os")).cpus().length, node: process.version },
    latencyUnit: "ms",
    results,
    nearestSideBySide: {
      graphqlP50: fine.graphql.p50,
      graphqlP99: fine.graphql.p99,
      httpFloorP50: fine.httpFloor.p50,
      directSqlP50: fine.sql.p50,
      directRepositoryP50: fine.repository.p50,
      directServiceP50: fine.service.p50,
      ratioGraphqlToSql: fine.graphql.p50 / fine.sql.p50,
      note:
        "per-request performance.now() timings, requests in sequence on one keep-alive connection; sql = the statement the resolver issues, " +
        "sent through the bare driver (pg / PGlite) without Prisma; httpFloor = `{ __typename }` through the same server",
      timings: fine,
      ...direct,
    },
  };
  process.stdout.write(JSON.stringify(out, null, 2) + "\n");
}

interface Timing {
  requests: number;
  p50: number;
  p99: number;
}

/** Times each function in turn, interleaved round by round, for about `seconds` each (after a warm-up). */
async function timeSideBySide(fns: Record<string, () => Promise<unknown>>, seconds: number): Promise<Record<string, Timing>> {
  const names = Object.keys(fns);
  for (const n of names) for (let i = 0; i < 200; i++) await fns[n]();
  const lat: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  const end = performance.now() + seconds * 1000 * names.length;
  while (performance.now() < end) {
    for (const n of names) {
      for (let i = 0; i < 50; i++) {
        const t = performance.now();
        await fns[n]();
        lat[n].push(performance.now() - t);
      }
    }
  }
  return Object.fromEntries(
    names.map((n) => {
      const l = lat[n].sort((a, b) => a - b);
      return [n, { requests: l.length, p50: round3(percentile(l, 50)), p99: round3(percentile(l, 99)) }];
    }),
  );
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** POST /graphql over one keep-alive socket (node:http, the lightest client), failing on GraphQL errors. */
function keepAlivePoster(url: string) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const u = new URL(url);
  const post = (body: unknown) =>
    new Promise<void>((resolve, reject) => {
      const data = JSON.stringify(body);
      const req = http.request(
        { host: u.hostname, port: u.port, path: "/graphql", method: "POST", agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(data) } },
        (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (c: string) => (text += c));
          res.on("end", () => (res.statusCode === 200 && !text.includes('"errors"') ? resolve() : reject(new Error(`HTTP ${res.statusCode}: ${text.slice(0, 300)}`))));
        },
      );
      req.on("error", reject);
      req.end(data);
    });
  return Object.assign(post, { close: () => agent.destroy() });
}

/** The neighbour-list statement of GeometryRepository.neighbourLists, through the bare driver. */
function bareSql(app: App): (saeId: string, index: number) => Promise<unknown> {
  const sql = `SELECT f.sae_id AS "saeId", f.idx AS "index", f.nn_indices AS "nnIndices", f.nn_cosines AS "nnCosines"
      FROM unnest($1::text[], $2::int[]) AS k(sae_id, idx)
      JOIN feature f ON f.sae_id = k.sae_id AND f.idx = k.idx
      JOIN sae s ON s.id = f.sae_id AND s.status = 'ready'`;
  const d = app.db.driver;
  return d.kind === "postgres"
    ? (saeId, index) => d.pool.query({ name: "bench_neighbour_lists", text: sql, values: [[saeId], [index]] })
    : (saeId, index) => d.pg.query(sql, [[saeId], [index]]);
}

try {
  await main();
} finally {
  if (tempDir) rmSync(tempDir, { recursive: true, force: true });
}
