// encodeVector's two exact paths on the same SAE and the same vectors, measured call by call in
// turn: one pgvector inner-product scan in the database vs the encoder matrix held in process
// (after a one-time load, also timed). Runs on PGlite, or on PostgreSQL when DATABASE_URL is set.
// Prints one JSON document (scripts/bench/lib.ts); logs on stderr.
//   node bin/run-ts.js scripts/bench/encode.ts [--full] [--features N] [--d-in N] [--reps N]
import { createApp } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import { silentLogger } from "../../src/logger.ts";
import { EncodeRepository } from "../../src/modules/encode/encode.repository.ts";
import { EncodeService } from "../../src/modules/encode/encode.service.ts";
import { type BenchRow, benchMode, emit, intArg, log, measureAlternating, round, timeMs } from "./lib.ts";

const mode = benchMode();
const features = intArg("features", mode === "full" ? 65536 : 16384);
const dIn = intArg("d-in", 768);
const reps = intArg("reps", mode === "full" ? 50 : 20);
const K = 20;

function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

const config = loadConfig(process.env);
const app = await createApp(config, { log: silentLogger, memory: config.database.kind === "pglite" });
const backend = app.db.backend;
try {
  const r = rng(1);
  const saeId = "bench/encode";
  log(`${backend}: ingesting ${features} x ${dIn} encoder columns`);
  const ingestMs = await timeMs(() =>
    app.services.ingest.ingestSae(
      { model: { id: "bench" }, sae: { id: saeId, architecture: "standard", dIn, dSae: features }, source: { format: "bench", path: "-" }, contentHash: "enc" },
      async (sink) => {
        for (let s = 0; s < features; s += 2048) {
          const rows = [];
          for (let i = s; i < Math.min(features, s + 2048); i++) {
            rows.push({ index: i, encoder: Float32Array.from({ length: dIn }, () => (r() - 0.5) / 14), bEnc: -0.05 * r() });
          }
          await sink.features(rows);
        }
      },
    ),
  );
  const vectors = Array.from({ length: 16 }, () => Array.from({ length: dIn }, () => r() * 2 - 1));
  const opts = { maxK: 1000, log: silentLogger };
  const db = new EncodeService(new EncodeRepository(app.db), { ...opts, mode: "database" });
  const mem = new EncodeService(new EncodeRepository(app.db), { ...opts, mode: "memory", cacheBytes: 2 ** 31 });
  const loadMs = await timeMs(() => mem.encode(saeId, vectors[0]!, K));
  // Same answer from both paths (ranks can swap only on float32 near-ties).
  let agree = 0;
  for (const v of vectors) {
    const [a, b] = [await db.encode(saeId, v, K), await mem.encode(saeId, v, K)];
    agree += a.filter((h, i) => h.index === b[i]?.index).length / Math.max(1, a.length);
  }
  log(`${backend}: timing ${reps} alternating calls per path`);
  const t = await measureAlternating(
    { database: (i) => db.encode(saeId, vectors[Math.abs(i) % vectors.length]!, K), memory: (i) => mem.encode(saeId, vectors[Math.abs(i) % vectors.length]!, K) },
    { reps, warmup: 2 },
  );
  const sizes = { features, d_in: dIn, k: K };
  const row = (name: string, backendName: string, tm: { p50: number; p99: number }, extra: Record<string, number> = {}): BenchRow => ({
    suite: "encode",
    name,
    backend: backendName,
    sizes,
    reps,
    metric: "p50 latency",
    unit: "ms",
    value: round(tm.p50, 2),
    better: "lower",
    extra: { p99: round(tm.p99, 2), ...extra },
  });
  const rows: BenchRow[] = [
    row("encodeVector database scan (pgvector <#>)", backend, t.database),
    {
      ...row("encodeVector in-process matrix", backend, t.memory, { loadMs: round(loadMs, 0), agreementTop20: round(agree / vectors.length, 4) }),
      baseline: { name: "encodeVector database scan (pgvector <#>)", backend, value: round(t.database.p50, 2) },
      ratio: round(t.memory.p50 / t.database.p50, 3),
    },
  ];
  emit({
    suite: "encode",
    rows,
    notes: [
      `${backend}: ingest of ${features} encoder columns took ${round(ingestMs / 1000, 1)} s; the matrix load (first in-process call) ${round(loadMs, 0)} ms.`,
      "The service answers an SAE's first request from the database and loads the matrix on its second (README: Encoding vectors).",
    ],
  });
} finally {
  await app.close();
}
