// Soak: a bounded load on loopback against `monoscope serve` in a child process, with a
// mix of dashboard queries, for --minutes (default 10) at --connections (default 8).
// Passes when no request failed (transport error, non-2xx, timeout or GraphQL error) and
// the server's RSS after the soak has not grown more than 10% over its RSS after the
// warm-up (a smaller RSS is memory handed back to the system, not a fault), both taken at
// rest right after a full garbage collection in the server (scripts/bench/gc-on-signal.cjs):
// under load a garbage-collected heap swings by ~100 MiB with the allocation rate (the
// per-minute RSS medians under load are printed too), which says nothing about a leak.
//
// --writes (PostgreSQL only): a second process ingests and deletes small SAEs all along, and
// a share of the reads (--written-share, default 0.5) asks for their features; passes when
// no read failed, no feature was read half-present and no SAE row with a feature count from
// after a delete (scripts/soak-writes.ts). No RSS check then.
//
//   node bin/run-ts.js scripts/soak.ts [--minutes 10] [--connections 8] [--warmup 60] [--rest 10]
//       [--features 4096] [--d-in 256] [--data-dir DIR]   (DATABASE_URL: PostgreSQL)
//       [--writes [--written-share 0.5] [--write-pause-ms 200]]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { benchConfig, ensureDataset, load, once, parseArgs, rng, rssMiB, spawnServer } from "./bench/api-harness.ts";
import { readLoop, startWriter, WRITTEN_FEATURES } from "./soak-writes.ts";

const args = parseArgs(process.argv.slice(2));
const minutes = Number(args.minutes ?? 10);
const connections = Number(args.connections ?? 8);
const warmupSeconds = Number(args.warmup ?? 60);
const restSeconds = Number(args.rest ?? 10);
const features = Number(args.features ?? 4096);
const dIn = Number(args["d-in"] ?? 256);
const saeId = args["sae-id"] ?? `bench-model/synthetic-${features}x${dIn}`;
const log = (s: string) => process.stderr.write(`soak: ${s}\n`);

const tempDir = args["data-dir"] ? null : mkdtempSync(join(tmpdir(), "monoscope-soak-"));
const dataDir = args["data-dir"] ?? tempDir!;
const config = benchConfig(process.env, dataDir);

const Q = {
  lookup: `query Lookup($s: ID!, $i: Int!) { feature(saeId: $s, index: $i) { id label density maxActivation umap { x y } logits { positive { token value } } topActivations(first: 5) { kind maxValue text } } }`,
  page: `query Page($s: ID!, $after: String) { features(saeId: $s, first: 50, after: $after, orderBy: DENSITY_DESC) { totalCount edges { node { index density label } } pageInfo { endCursor } } }`,
  nearest: `query Nearest($s: ID!, $i: Int!) { nearestFeatures(saeId: $s, index: $i, k: 10) { cosine feature { index label } } }`,
  search: `query Search($q: String!) { searchConcepts(query: $q, k: 10) { score feature { id } } }`,
};
const TERMS = ["animal", "river", "music weather", "emotion", "sport", "money law"];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : NaN;
}

async function main() {
  await ensureDataset(config, { saeId, features, dIn }, log);
  const env: Record<string, string> = { MONOSCOPE_DATA_DIR: dataDir };
  if (config.database.kind === "postgres") env.DATABASE_URL = config.database.url;
  const rand = rng(3);
  const i = () => Math.floor(rand() * features);
  const next = () => {
    const r = rand();
    if (r < 0.4) return { query: Q.lookup, variables: { s: saeId, i: i() } };
    if (r < 0.6) return { query: Q.page, variables: { s: saeId, after: null } };
    if (r < 0.85) return { query: Q.nearest, variables: { s: saeId, i: i() } };
    return { query: Q.search, variables: { q: TERMS[Math.floor(rand() * TERMS.length)] } };
  };

  const server = await spawnServer(env, { gcHook: true });
  try {
    for (const q of Object.values(Q)) {
      const r = await once(server.url, { query: q, variables: { s: saeId, i: 1, q: "animal", after: null } });
      if (r.errors) throw new Error(`query fails before the soak: ${JSON.stringify(r.errors).slice(0, 300)}`);
    }
    if (args.writes !== undefined) return await soakWithWrites(server.url, next, rand);
    const sampled = async <T>(fn: () => Promise<T>): Promise<[T, number[]]> => {
      const rss: number[] = [];
      const timer = setInterval(() => rss.push(rssMiB(server.pid)), 5000);
      try {
        return [await fn(), rss];
      } finally {
        clearInterval(timer);
      }
    };
    log(`warm-up: ${warmupSeconds} s at ${connections} connections`);
    const [warm, warmRss] = await sampled(() => load(server.url, next, { connections, seconds: warmupSeconds }));
    log(`warm-up done: ${warm.requests} requests, RSS median ${median(warmRss).toFixed(1)} MiB (max ${Math.max(...warmRss).toFixed(1)})`);
    const MiB = (b: number) => Math.round((b / 2 ** 20) * 10) / 10;
    const atRest = async () => {
      await new Promise((r) => setTimeout(r, restSeconds * 1000));
      await server.collectGarbage();
      await new Promise((r) => setTimeout(r, 2000));
      const m = await server.collectGarbage();
      return { rss: MiB(m.rss), heapUsed: MiB(m.heapUsed), external: MiB(m.external) };
    };
    const settledMem = await atRest();
    const settled = settledMem.rss;
    log(`settled after the warm-up (at rest, after GC): RSS ${settled} MiB, heap used ${settledMem.heapUsed} MiB`);
    const samples: { minute: number; rssMiB: number; rssMinMiB: number; rssMaxMiB: number; requests: number; p50: number; p99: number; failed: number }[] = [];
    const totals = { requests: 0, failed: 0 };
    // One-minute slices so RSS is sampled along the way; the load itself is continuous enough.
    for (let m = 1; m <= minutes; m++) {
      const [r, rssSamples] = await sampled(() => load(server.url, next, { connections, seconds: 60 }));
      const failed = r.errors + r.non2xx + r.timeouts + r.graphqlErrors;
      totals.requests += r.requests;
      totals.failed += failed;
      const rss = median(rssSamples);
      const round = (x: number) => Math.round(x * 10) / 10;
      samples.push({ minute: m, rssMiB: round(rss), rssMinMiB: round(Math.min(...rssSamples)), rssMaxMiB: round(Math.max(...rssSamples)), requests: r.requests, p50: r.p50, p99: r.p99, failed });
      log(`minute ${m}/${minutes}: ${r.requests} requests (${r.requestsPerSecond.toFixed(0)}/s), p50 ${r.p50} ms, p99 ${r.p99} ms, failed ${failed}, RSS median ${rss.toFixed(1)} MiB`);
    }
    const finalMem = await atRest();
    const finalRss = finalMem.rss;
    log(`after the soak (at rest, after GC): RSS ${finalRss} MiB, heap used ${finalMem.heapUsed} MiB`);
    const drift = (finalRss - settled) / settled;
    const pass = totals.failed === 0 && drift <= 0.1;
    const out = {
      soak: "graphql-api",
      backend: config.database.kind,
      minutes,
      connections,
      warmupSeconds,
      restSeconds,
      rssWarmupMedianMiB: Math.round(median(warmRss) * 10) / 10,
      requests: totals.requests,
      failed: totals.failed,
      rssSettledMiB: settled,
      heapUsedSettledMiB: settledMem.heapUsed,
      heapUsedFinalMiB: finalMem.heapUsed,
      rssFinalMiB: finalRss,
      rssMaxUnderLoadMiB: Math.max(...samples.map((s) => s.rssMaxMiB)),
      rssDrift: Math.round(drift * 1000) / 1000,
      pass,
      samples,
    };
    process.stdout.write(JSON.stringify(out, null, 2) + "\n");
    if (!pass) process.exitCode = 1;
  } finally {
    await server.stop();
  }
}

async function soakWithWrites(url: string, next: () => { query: string; variables: Record<string, unknown> }, rand: () => number) {
  if (config.database.kind !== "postgres") throw new Error("--writes needs DATABASE_URL: the writer is a second process, and the embedded data dir is held by the server");
  const writtenShare = Number(args["written-share"] ?? 0.5);
  const writer = startWriter(config, Number(args["write-pause-ms"] ?? 200));
  log(`reads at ${connections} connections for ${minutes} min while SAEs are ingested and deleted`);
  const t0 = Date.now();
  const reads = await readLoop(url, { connections, seconds: minutes * 60, writtenShare }, next, () => ({
    id: writer.pick(rand),
    index: Math.floor(rand() * WRITTEN_FEATURES),
  }));
  const writes = await writer.stop();
  const seconds = (Date.now() - t0) / 1000;
  const pass = reads.failed === 0 && reads.halfPresent === 0 && reads.saeCountAcrossDelete === 0 && writes.writeErrors.length === 0 && writes.ingested > 0 && writes.deleted > 0 && reads.present > 0 && reads.absent > 0;
  const out = { soak: "graphql-api-with-writes", backend: config.database.kind, minutes, connections, seconds: Math.round(seconds), ...reads, readsPerSecond: Math.round(reads.reads / seconds), ...writes, pass };
  process.stdout.write(JSON.stringify(out, null, 2) + "\n");
  if (!pass) process.exitCode = 1;
}

try {
  await main();
} finally {
  if (tempDir) rmSync(tempDir, { recursive: true, force: true });
}
