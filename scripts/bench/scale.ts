// The scale sheet's measurements: for each d_in, a generated SAE goes through the real ingest
// (`monoscope ingest saelens` into a fresh PostgreSQL database); then the bytes it occupies
// (pg_relation_size / pg_table_size / pg_indexes_size / pg_column_size), the HNSW build time and
// size, and the exact products behind precomputed neighbours and lineage (src/kernel). The report
// (report-scale.ts) turns these into bytes per feature, build time per 100k and the extrapolation
// to 1M / 4M / 34M features.
//   node bin/run-ts.js scripts/bench/scale.ts [--full]
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { decoderIndexStatement, HALFVEC_INDEX_MAX_DIM } from "./decoder-index.ts";
import { createKernel } from "../../src/kernel/index.ts";
import { generateDecoders, planDecoders, unitRows } from "./generator.ts";
import { benchMode, type BenchRow, createBenchDatabase, emit, emitPartialOnTimeout, log, postgresSettings, postgresUrl, round, timeMs } from "./lib.ts";
import { writeSaeLensCheckpoint } from "./safetensors-io.ts";

const mode = benchMode();
const SIZES: Record<number, number> = mode === "full" ? { 768: 50_000, 2304: 25_000, 4096: 20_000 } : { 768: 10_000, 2304: 4_000, 4096: 3_000 };
const rows: BenchRow[] = [];
const notes: string[] = [];

export interface ScalePoint {
  d: number;
  n: number;
  ingestSeconds: number | null;
  ingestError?: string;
  /** Bytes per feature, from the database after ingest (VACUUM ANALYZE first). */
  bytes: { heap: number; heapCompacted: number; toastEtc: number; btreeIndexes: number; total: number; decoderColumn: number; encoderColumn: number; neighbourColumns: number } | null;
  hnsw: { seconds: number; bytesPerFeature: number; params: string } | { skipped: string };
  /** Exact all-pairs top-10 (precomputed neighbours) and a lineage best-match product (n/4 parents). */
  products: { neighboursSeconds: number; lineageSeconds: number; lineageParents: number; gflops: number };
}

const points: ScalePoint[] = [];
let settings: Record<string, string> = {};
const meta = { points, postgresSettings: settings };
emitPartialOnTimeout({ suite: "scale", rows, notes, meta });

const server = await postgresUrl();
const kernel = await createKernel();

for (const [dStr, n] of Object.entries(SIZES)) {
  const d = Number(dStr);
  const plan = planDecoders({ n, d, seed: 1000 + d });
  const point: ScalePoint = { d, n, ingestSeconds: null, bytes: null, hnsw: { skipped: "no PostgreSQL" }, products: { neighboursSeconds: 0, lineageSeconds: 0, lineageParents: 0, gflops: 0 } };

  if (server.url) {
    const dir = mkdtempSync(join(tmpdir(), `monoscope-scale-${d}-`));
    const db = await createBenchDatabase(server.url, `scale_${d}`);
    try {
      log(`d_in ${d}: writing a ${n}-feature checkpoint`);
      writeSaeLensCheckpoint(dir, plan, { modelName: `synthetic-${d}` });
      const saeId = `scale-${d}`;
      const t0 = performance.now();
      const r = spawnSync(process.execPath, ["bin/monoscope.js", "ingest", "saelens", dir, "--sae", saeId, "--model", `synthetic-${d}`], {
        env: { ...process.env, DATABASE_URL: db.url }, encoding: "utf8", maxBuffer: 64 << 20,
      });
      const wall = (performance.now() - t0) / 1000;
      log(`d_in ${d}: ingest CLI ${wall.toFixed(1)} s wall`);
      if (r.status !== 0) {
        point.ingestError = r.stderr.trim().split("\n").pop() ?? `exit ${r.status}`;
        notes.push(`d_in ${d}: ingest failed: ${point.ingestError}`);
      } else {
        const summary = JSON.parse(r.stdout.trim().split("\n").pop() ?? "{}") as { seconds?: number };
        point.ingestSeconds = round(summary.seconds ?? wall, 2);
        const c = new pg.Client({ connectionString: db.url });
        await c.connect();
        settings = await postgresSettings(c);
        meta.postgresSettings = settings;
        await c.query("VACUUM ANALYZE feature");
        const s = (
          await c.query(
            `SELECT count(*)::float8 AS n, pg_relation_size('feature')::float8 AS heap, pg_table_size('feature')::float8 AS tbl,
                    pg_indexes_size('feature')::float8 AS idx, pg_total_relation_size('feature')::float8 AS total,
                    avg(pg_column_size(decoder))::float8 AS dec, avg(pg_column_size(encoder))::float8 AS enc,
                    avg(coalesce(pg_column_size(nn_indices), 0) + coalesce(pg_column_size(nn_cosines), 0))::float8 AS nn
               FROM feature`,
          )
        ).rows[0] as Record<string, number>;
        const per = (x: number) => round(x / s.n, 1);
        await c.query("VACUUM FULL feature");
        const compacted = Number((await c.query("SELECT pg_relation_size('feature')::float8 AS b")).rows[0].b);
        point.bytes = { heap: per(s.heap), heapCompacted: per(compacted), toastEtc: per(s.tbl - s.heap), btreeIndexes: per(s.idx), total: per(s.total), decoderColumn: round(s.dec, 1), encoderColumn: round(s.enc, 1), neighbourColumns: round(s.nn, 1) };
        log(`d_in ${d}: sizes measured`);
        if (d <= HALFVEC_INDEX_MAX_DIM) {
          const stmt = decoderIndexStatement(saeId, d);
          await c.query("SET maintenance_work_mem = '1GB'");
          const secs = (await timeMs(() => c.query(stmt.sql))) / 1000;
          const size = Number((await c.query("SELECT pg_relation_size($1::regclass)::float8 AS b", [stmt.name])).rows[0].b);
          point.hnsw = { seconds: round(secs, 2), bytesPerFeature: round(size / s.n, 1), params: "halfvec_cosine_ops, m 16, ef_construction 64, maintenance_work_mem 1GB" };
        } else point.hnsw = { skipped: `pgvector indexes halfvec up to ${HALFVEC_INDEX_MAX_DIM} dimensions` };
        await c.end();
      }
    } finally {
      await db.drop();
      rmSync(dir, { recursive: true, force: true });
    }
  } else notes.push(`no PostgreSQL (${server.reason}): storage and ingest not measured`);

  // The exact products behind precomputed neighbours (n x n top-10) and lineage (n/4 parents).
  const { unit } = unitRows(generateDecoders(plan), n, d);
  const nbS = (await timeMs(() => kernel.topKDot(unit, n, unit, n, d, 11))) / 1000;
  const parents = Math.floor(n / 4);
  const linS = (await timeMs(() => kernel.topKDot(unit, n, unit.subarray(0, parents * d), parents, d, 2))) / 1000;
  point.products = { neighboursSeconds: round(nbS, 2), lineageSeconds: round(linS, 2), lineageParents: parents, gflops: round((2 * n * n * d) / nbS / 1e9, 1) };
  points.push(point);
  log(`d_in ${d}: ${JSON.stringify(point)}`);

  const sizes = { features: n, d_in: d };
  if (point.bytes) {
    rows.push({
      suite: "scale", name: `storage per feature d_in=${d}`, backend: "postgres", sizes, reps: 1, metric: "bytes per feature (table + TOAST + b-tree indexes)",
      unit: "B", value: point.bytes.total, better: "lower",
      extra: { heap: point.bytes.heap, "heap after VACUUM FULL": point.bytes.heapCompacted, "TOAST+FSM+VM": point.bytes.toastEtc, "b-tree indexes": point.bytes.btreeIndexes, "decoder halfvec": point.bytes.decoderColumn, "encoder vector": point.bytes.encoderColumn, "nn lists": point.bytes.neighbourColumns },
    });
  }
  if (point.ingestSeconds !== null) {
    rows.push({ suite: "scale", name: `ingest (monoscope ingest saelens) d_in=${d}`, backend: "postgres", sizes, reps: 1, metric: "throughput", unit: "features/s", value: round(n / point.ingestSeconds, 0), better: "higher", extra: { seconds: point.ingestSeconds } });
  }
  if ("seconds" in point.hnsw) {
    rows.push({ suite: "scale", name: `HNSW build d_in=${d}`, backend: "postgres", sizes, params: { index: point.hnsw.params }, reps: 1, metric: "build time", unit: "s", value: point.hnsw.seconds, better: "lower", extra: { "index bytes per feature": point.hnsw.bytesPerFeature } });
  }
  rows.push({
    suite: "scale", name: `all-pairs top-10 (precomputed neighbours) d_in=${d}`, backend: `kernel:${kernel.backend}`, sizes, reps: 1, metric: "time", unit: "s",
    value: point.products.neighboursSeconds, better: "lower", extra: { GFLOPs: point.products.gflops, "lineage best match vs n/4 parents, s": point.products.lineageSeconds },
  });
}

await kernel.close();
emit({ suite: "scale", rows, notes, meta });
