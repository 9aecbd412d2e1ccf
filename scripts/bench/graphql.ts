// GraphQL API benchmark: requests/s and latency p50/p99 for a feature lookup, a
// nearest-feature query and a concept search at concurrency 1 and 16 (autocannon
// against `monoscope serve` on loopback), and the nearest-feature p50 through GraphQL
// next to the same repository SQL issued directly in process. Prints one JSON object.
//
//   node bin/run-ts.js scripts/bench/graphql.ts [--features 4096] [--d-in 256] [--seconds 10]
//       [--data-dir DIR]      embedded database (default: a fresh temp dir, or DATABASE_URL for PostgreSQL)
//       [--sae-id ID]         benchmark an SAE already in the database instead of a synthetic one
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createApp } from "../../src/app.ts";
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
  } finally {
    await server.stop();
  }

  // The same work without GraphQL and HTTP, measured with the server stopped (an embedded
  // database can be open in one process only): the geometry repository's neighbour-list read
  // (the statement nearestFeatures issues for k <= the stored list), and the service call.
  const app = await createApp(config, { log: silentLogger, migrate: false });
  const direct: Record<string, unknown> = {};
  try {
    const repo = new GeometryRepository(app.db);
    const timeLoop = async (fn: () => Promise<unknown>) => {
      for (let i = 0; i < 200; i++) await fn();
      const lat: number[] = [];
      const end = performance.now() + seconds * 1000;
      while (performance.now() < end) {
        const t = performance.now();
        await fn();
        lat.push(performance.now() - t);
      }
      lat.sort((a, b) => a - b);
      return { requests: lat.length, p50: percentile(lat, 50), p99: percentile(lat, 99) };
    };
    const before = app.db.stats.statements;
    await app.services.geometry.nearest.nearestFeatures({ saeId, index: 0 }, { k: 10 });
    direct.statementsPerNearestCall = app.db.stats.statements - before;
    log(`nearest direct: repository SQL for ${seconds} s`);
    direct.sql = await timeLoop(() => repo.neighbourLists([{ saeId, index: nextIndex() }]));
    log(`nearest direct: service call for ${seconds} s`);
    direct.service = await timeLoop(() => app.services.geometry.nearest.nearestFeatures({ saeId, index: nextIndex() }, { k: 10 }));
  } finally {
    await app.close();
  }

  const gql1 = results.find((r) => r.query === "nearestFeatures" && r.concurrency === 1) as { p50: number };
  const sql = direct.sql as { p50: number };
  const out = {
    benchmark: "graphql-api",
    backend: config.database.kind,
    dataset: { saeId, features, dIn },
    secondsPerRun: seconds,
    machine: { cpus: (await import("node:os")).cpus().length, node: process.version },
    latencyUnit: "ms",
    results,
    nearestSideBySide: {
      graphqlP50: gql1.p50,
      directSqlP50: sql.p50,
      directServiceP50: (direct.service as { p50: number }).p50,
      ratioGraphqlToSql: gql1.p50 / sql.p50,
      note: "autocannon reports whole milliseconds at p50; direct timings are performance.now() in process",
      ...direct,
    },
  };
  process.stdout.write(JSON.stringify(out, null, 2) + "\n");
}

try {
  await main();
} finally {
  if (tempDir) rmSync(tempDir, { recursive: true, force: true });
}
