// Storage partitioned by SAE vs not, side by side in one run on one PostgreSQL server: two fresh
// databases, one migrated to the current schema (per-SAE tables LIST-partitioned by SAE) and one
// to the schema just before the partition migration (20261202020000_attribution_graphs), both
// seeded with the same SQL with SAES stored SAEs (features with labels, activations, neighbours).
//  (a) ingest of a new SAE (features with d_in D_IN decoders + activations): the same binary COPY
//      bytes (captured once from IngestSession) replayed with each schema's statements:
//        unpartitioned       INSERT sae 'loading'; COPY feature; COPY activation (triggers off, as
//                            the ingest runs them as superuser); ANALYZE; flip to ready
//        partitioned-attached  the same into partitions attached from the start (the previous path)
//        partitioned-detached  monoscope_prepare_sae_tables; COPY into the detached tables; their
//                            indexes/FKs/ANALYZE (monoscope_index_sae_tables); one transaction with
//                            monoscope_attach_sae_tables and the flip (the ingest's path now); the
//                            attach transaction is also reported alone
//  (b) deleteSae of that SAE: IngestRepository.deleteSae's statements (partitions dropped) vs the
//      same transaction of DELETEs on the unpartitioned schema;
//  (c) the feature page (feature, its labels, top activations, neighbours with their labels) as one
//      SQL statement, p50/p99 over random features of the stored SAEs, alternating databases.
// Prints one JSON document (scripts/bench/lib.ts); logs on stderr.
//   node bin/run-ts.js scripts/bench/partition.ts [--quick] [--saes N] [--features N] [--new-features N] [--d-in N] [--reps N] [--queries N]
import { readFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { createApp } from "../../src/app.ts";
import { copyHeader, copyTrailer } from "../../src/db/bulk.ts";
import type { BulkConnection } from "../../src/db/bulk-connection.ts";
import { loadConfig } from "../../src/config.ts";
import { migrate } from "../../src/db/migrate.ts";
import { BulkRepository, COPY_SQL } from "../../src/ingest/bulk/bulk.repository.ts";
import { IngestSession } from "../../src/ingest/ingest.session.ts";
import { silentLogger } from "../../src/logger.ts";
import { type BenchRow, compare, createBenchDatabase, emit, emitPartialOnTimeout, intArg, log, measureAlternating, postgresSettings, postgresUrl, round, summarize, timeMs } from "./lib.ts";

const quick = process.argv.includes("--quick");
const SAES = intArg("saes", quick ? 8 : 50);
const FEATURES = intArg("features", quick ? 2000 : 10_000);
const ACTS = intArg("acts-per-feature", 3);
const NEW_FEATURES = intArg("new-features", quick ? 10_000 : 100_000);
const NEW_ACTS = intArg("new-acts-per-feature", 2);
const D_IN = intArg("d-in", 128);
const TOKENS = 16;
const REPS = intArg("reps", quick ? 1 : 2);
const QUERIES = intArg("queries", quick ? 200 : 1000);
const PRE_PARTITION = readFileSync(join(import.meta.dirname, "..", "..", "tests", "fixtures", "pre-partition", "LAST_MIGRATION"), "utf8").trim();
// Sorts after every stored SAE id (the unfavourable case for any check that walks the parents' keys in order).
const NEW_SAE = "sae-new";

const rows: BenchRow[] = [];
const notes: string[] = [];
const meta: Record<string, unknown> = {};
emitPartialOnTimeout({ suite: "partition", rows, notes, meta });

type Db = "partitioned" | "unpartitioned";

/** The COPY bytes an ingest of the new SAE sends, per target, captured from IngestSession. */
async function captureNewSae(): Promise<{ feature: Buffer[]; activation: Buffer[] }> {
  const out = { feature: [] as Buffer[], activation: [] as Buffer[] };
  const conn: BulkConnection = {
    backend: "postgres",
    query: async () => [],
    async copy(t, tuples) {
      if (t.name !== "feature" && t.name !== "activation") throw new Error(`unexpected COPY into ${t.name}`);
      out[t.name].push(Buffer.from(tuples));
    },
    endCopy: async () => {},
    abortCopy: async () => {},
    transaction: (fn) => fn(conn),
    poison: () => {},
    release: async () => {},
  };
  const session = new IngestSession(new BulkRepository(conn), { saeId: NEW_SAE, dIn: D_IN, dSae: NEW_FEATURES, file: "bench" });
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  for (let first = 0; first < NEW_FEATURES; first += 5000) {
    const n = Math.min(5000, NEW_FEATURES - first);
    await session.features(
      Array.from({ length: n }, (_, k) => ({ index: first + k, decoder: Float32Array.from({ length: D_IN }, rnd), density: Math.abs(rnd()) / 100, maxActivation: 1 + Math.abs(rnd()) * 10 })),
    );
  }
  const tokens = Array.from({ length: TOKENS }, (_, i) => ` t${i}`);
  for (let first = 0; first < NEW_FEATURES; first += 5000) {
    const n = Math.min(5000, NEW_FEATURES - first);
    const acts = [];
    for (let k = 0; k < n; k++) for (let o = 0; o < NEW_ACTS; o++) acts.push({ index: first + k, tokens, values: tokens.map(() => Math.abs(rnd()) * 5) });
    await session.activations(acts);
  }
  await session.finish();
  return out;
}

async function copyInto(c: pg.PoolClient, sql: string, chunks: Buffer[]): Promise<void> {
  const stream = c.query(copyFrom(sql, { highWaterMark: 32 << 20 }));
  const done = new Promise<void>((resolve, reject) => {
    stream.on("finish", resolve);
    stream.on("error", reject);
  });
  stream.write(copyHeader());
  for (const b of chunks) if (!stream.write(b)) await new Promise((r) => stream.once("drain", r));
  stream.end(copyTrailer());
  await done;
}

/** The same seed statements on both schemas (the partitioned one first gives each SAE its partitions). */
async function seed(pools: pg.Pool, db: Db): Promise<void> {
  // One connection, foreign-key triggers off (the rows are consistent by construction): per-row
  // checks against a partitioned feature table would make the partitioned seed several times slower.
  const pool = await pools.connect();
  try {
    await pool.query("SET session_replication_role = replica");
    await seedOn(pool, db);
    await pool.query("RESET session_replication_role");
  } finally {
    pool.release();
  }
  await pools.query("VACUUM ANALYZE feature, explanation, activation");
}

async function seedOn(pool: pg.PoolClient, db: Db): Promise<void> {
  await pool.query(`INSERT INTO model (id, name, d_model) VALUES ('bench-model', 'bench-model', ${D_IN})`);
  for (let s = 0; s < SAES; s++) {
    const id = `sae-${String(s).padStart(3, "0")}`;
    await pool.query(`INSERT INTO sae (id, name, model_id, architecture, d_in, d_sae, status) VALUES ($1, $1, 'bench-model', 'standard', ${D_IN}, ${FEATURES}, 'ready')`, [id]);
    if (db === "partitioned") await pool.query("SELECT monoscope_create_sae_partitions($1)", [id]);
    await pool.query(
      `INSERT INTO feature (sae_id, idx, density, max_activation, nn_indices, nn_cosines)
       SELECT $1, i, (i % 997) / 99700.0, 1 + (i % 13), ARRAY(SELECT (i * 7 + j * 131) % ${FEATURES} FROM generate_series(1, 16) j),
              ARRAY(SELECT 0.9 - j * 0.01 FROM generate_series(1, 16) j)::real[]
       FROM generate_series(0, ${FEATURES - 1}) i`,
      [id],
    );
    await pool.query(`INSERT INTO explanation (sae_id, feature_idx, text, method) SELECT $1, i, 'label ' || i || ' of ' || $1, 'imported' FROM generate_series(0, ${FEATURES - 1}) i`, [id]);
    await pool.query(
      `INSERT INTO activation (sae_id, feature_idx, ordinal, tokens, values, max_value, max_token_index, text)
       SELECT $1, i, o, ARRAY(SELECT ' t' || t FROM generate_series(1, ${TOKENS}) t),
              ARRAY(SELECT ((i + o * 3 + t) % 17) / 3.0 FROM generate_series(1, ${TOKENS}) t)::real[], 16 / 3.0 - o, o, 'text ' || i
       FROM generate_series(0, ${FEATURES - 1}) i, generate_series(0, ${ACTS - 1}) o`,
      [id],
    );
  }
}

/**
 * The feature page as one statement. "param": every per-SAE table is compared with the SAE id
 * parameter ($1), so the planner keeps one partition of each; "correlated": the subqueries
 * compare with the outer row's f.sae_id, which a partitioned plan can only prune at run time
 * (every partition is planned).
 */
function featurePage(form: "param" | "correlated"): string {
  const sae = (alias: string) => (form === "param" ? "$1" : `${alias}.sae_id`);
  return `/* bench_feature_page_${form} */
  SELECT f.idx, f.density, f.max_activation,
    (SELECT coalesce(json_agg(json_build_object('text', e.text, 'method', e.method) ORDER BY e.id), '[]')
       FROM explanation e WHERE e.sae_id = ${sae("f")} AND e.feature_idx = f.idx) AS labels,
    (SELECT coalesce(json_agg(a), '[]') FROM (
       SELECT a.tokens, a.values, a.max_value FROM activation a WHERE a.sae_id = ${sae("f")} AND a.feature_idx = f.idx
       ORDER BY a.max_value DESC LIMIT 10) a) AS top,
    (SELECT coalesce(json_agg(json_build_object('idx', n.idx, 'density', n.density,
              'label', (SELECT e.text FROM explanation e WHERE e.sae_id = ${sae("n")} AND e.feature_idx = n.idx ORDER BY e.id LIMIT 1))), '[]')
       FROM feature n WHERE n.sae_id = ${sae("f")} AND n.idx = ANY (f.nn_indices[1:10])) AS neighbours
  FROM feature f JOIN sae s ON s.id = f.sae_id AND s.status = 'ready'
  WHERE f.sae_id = $1 AND f.idx = $2`;
}

/**
 * deleteSae's transaction: on the partitioned schema IngestRepository.deleteSae's statements (the
 * SAE's partitions dropped, then set-based DELETEs of what lies outside them); on the other the
 * statements deleteSae ran before the partition migration (262aaae^), DELETEs of the rows.
 */
async function deleteSae(pool: pg.Pool, db: Db, id: string): Promise<number> {
  const c = await pool.connect();
  try {
    await c.query("BEGIN");
    await c.query("/* rm_find_sae */ SELECT family_id FROM sae WHERE id = $1", [id]);
    let n = 0;
    const del = async (sql: string) => (n += (await c.query(sql, [id])).rowCount ?? 0);
    if (db === "partitioned") {
      await c.query("/* rm_detached */ SELECT monoscope_drop_sae_tables($1)", [id]);
      await c.query("/* rm_feature_list_item */ DELETE FROM feature_list_item WHERE sae_id = $1", [id]);
      for (const r of (await c.query("/* rm_partitions */ SELECT table_name, rows::int AS n FROM monoscope_drop_sae_partitions($1)", [id])).rows) {
        if (r.table_name === "feature" || r.table_name === "activation") n += r.n;
      }
      await del("/* rm_explanation_score */ DELETE FROM explanation_score WHERE sae_id = $1");
      await del("/* rm_explanation_embedding */ DELETE FROM explanation_embedding WHERE sae_id = $1");
      await del("/* rm_search_document */ DELETE FROM search_document WHERE sae_id = $1");
    } else {
      await del("/* rm_explanation_score */ DELETE FROM explanation_score s USING explanation e WHERE s.explanation_id = e.id AND e.sae_id = $1");
      await del("/* rm_explanation_embedding */ DELETE FROM explanation_embedding m USING explanation e WHERE m.explanation_id = e.id AND e.sae_id = $1");
    }
    await del("/* rm_explanation */ DELETE FROM explanation WHERE sae_id = $1");
    await del("/* rm_activation_image */ DELETE FROM activation_image WHERE sae_id = $1");
    await del("/* rm_activation */ DELETE FROM activation WHERE sae_id = $1");
    await del("/* rm_feature_dashboard */ DELETE FROM feature_dashboard WHERE sae_id = $1");
    await del("/* rm_lineage_edge */ DELETE FROM lineage_edge WHERE parent_sae_id = $1 OR child_sae_id = $1");
    await del("/* rm_job */ DELETE FROM job WHERE sae_id = $1");
    await del("/* rm_feature */ DELETE FROM feature WHERE sae_id = $1");
    await c.query("/* rm_sae */ DELETE FROM sae WHERE id = $1", [id]);
    await c.query("/* rm_example_image */ DELETE FROM example_image i WHERE NOT EXISTS (SELECT 1 FROM activation_image a WHERE a.image_sha256 = i.sha256)");
    await c.query("COMMIT");
    return n;
  } catch (e) {
    await c.query("ROLLBACK").catch(() => {});
    throw e;
  } finally {
    c.release();
  }
}

type IngestVariant = "unpartitioned" | "partitioned-attached" | "partitioned-detached";

/** One replayed ingest of the new SAE; returns the total and the phases (ms). */
async function ingest(pool: pg.Pool, v: IngestVariant, copies: { feature: Buffer[]; activation: Buffer[] }): Promise<Record<string, number>> {
  const c = await pool.connect();
  const phases: Record<string, number> = {};
  const t0 = performance.now();
  let t = t0;
  const lap = (name: string) => {
    const now = performance.now();
    phases[name] = now - t;
    t = now;
  };
  try {
    await c.query("BEGIN");
    await c.query(`INSERT INTO sae (id, name, model_id, architecture, d_in, d_sae, status) VALUES ($1, $1, 'bench-model', 'standard', ${D_IN}, ${NEW_FEATURES}, 'loading')`, [NEW_SAE]);
    if (v === "partitioned-attached") await c.query("SELECT monoscope_create_sae_partitions($1)", [NEW_SAE]);
    if (v === "partitioned-detached") await c.query("SELECT monoscope_prepare_sae_tables($1)", [NEW_SAE]);
    await c.query("COMMIT");
    if (v === "partitioned-detached") {
      await c.query("SELECT set_config('search_path', quote_ident(monoscope_load_schema($1)) || ', ' || current_setting('search_path'), false)", [NEW_SAE]);
    } else {
      await c.query("SET session_replication_role = replica");
    }
    await copyInto(c, COPY_SQL.postgres.feature, copies.feature);
    await copyInto(c, COPY_SQL.postgres.activation, copies.activation);
    await c.query("RESET search_path; RESET session_replication_role");
    lap("copy");
    if (v === "unpartitioned") {
      await c.query("ANALYZE feature (sae_id, idx, density, max_activation, neuron_index)");
      await c.query("ANALYZE activation (sae_id, feature_idx, kind)");
    } else if (v === "partitioned-attached") {
      await c.query("SELECT monoscope_analyze_sae_partitions($1, true, true)", [NEW_SAE]);
    } else {
      await c.query("SELECT monoscope_index_sae_tables($1, true)", [NEW_SAE]);
    }
    lap(v === "partitioned-detached" ? "indexes+analyze" : "analyze");
    await c.query("BEGIN");
    if (v === "partitioned-detached") {
      await c.query("SELECT set_config('lock_timeout', '200ms', true)");
      await c.query("SELECT monoscope_attach_sae_tables($1)", [NEW_SAE]);
    }
    await c.query("UPDATE sae SET status = 'ready', updated_at = CURRENT_TIMESTAMP WHERE id = $1 AND status = 'loading'", [NEW_SAE]);
    await c.query("COMMIT");
    lap(v === "partitioned-detached" ? "attach+ready" : "ready");
    phases.total = performance.now() - t0;
    return phases;
  } finally {
    c.release();
  }
}

async function main(): Promise<void> {
  const server = await postgresUrl();
  if (!server.url) {
    notes.push(`skipped: ${server.reason}`);
    emit({ suite: "partition", rows, notes, meta });
    return;
  }
  const dbs: Record<Db, { url: string; drop(): Promise<void> }> = {
    partitioned: await createBenchDatabase(server.url, "partition_p"),
    unpartitioned: await createBenchDatabase(server.url, "partition_u"),
  };
  const pools = {} as Record<Db, pg.Pool>;
  try {
    for (const db of ["partitioned", "unpartitioned"] as Db[]) {
      const app = await createApp(loadConfig({ DATABASE_URL: dbs[db].url } as NodeJS.ProcessEnv), { log: silentLogger, migrate: false });
      try {
        await migrate(app.db, () => {}, db === "unpartitioned" ? { until: PRE_PARTITION } : {});
      } finally {
        await app.close();
      }
      pools[db] = new pg.Pool({ connectionString: dbs[db].url, max: 4 });
      // An idle client ended by the database's drop at the end must not take the process down.
      pools[db].on("error", () => {});
    }
    const settings = await postgresSettings(pools.partitioned);
    meta.settings = settings;
    const sizes = { saes: SAES, features: FEATURES, activationsPerFeature: ACTS };
    for (const db of ["partitioned", "unpartitioned"] as Db[]) {
      const ms = await timeMs(() => seed(pools[db], db));
      log(`${db}: seeded ${SAES} SAEs x ${FEATURES} features in ${Math.round(ms)} ms`);
      meta[`seed_${db}_ms`] = round(ms, 0);
    }

    // (c) the feature page, alternating the two databases on the same random features.
    let qs = 7;
    const pick = () => {
      qs = (qs * 1103515245 + 12345) >>> 0;
      return [`sae-${String(qs % SAES).padStart(3, "0")}`, (qs >>> 8) % FEATURES] as const;
    };
    const order = Array.from({ length: QUERIES }, pick);
    for (const form of ["param", "correlated"] as const) {
      const sql = featurePage(form);
      const page = async (db: Db, r: number) => {
        const [sae, idx] = order[Math.max(0, r) % order.length]!;
        const res = await pools[db].query(sql, [sae, idx]);
        if (res.rows.length !== 1 || (res.rows[0].neighbours as unknown[]).length === 0) throw new Error(`feature page ${sae}:${idx} on ${db}: no row`);
      };
      const pageT = await measureAlternating({ partitioned: (r) => page("partitioned", r), unpartitioned: (r) => page("unpartitioned", r) }, { reps: QUERIES, warmup: 20 });
      const what = form === "param" ? "per-SAE tables filtered by the SAE id parameter" : "subqueries correlated on f.sae_id";
      const pageRow = (db: Db): BenchRow => ({
        suite: "partition", name: `feature page (labels, top-10 activations, 10 neighbours; ${what}), ${db}`, backend: "postgres", sizes,
        params: { statement: `one SQL statement, unnamed (planned per call), ${form}`, storage: db }, reps: QUERIES, metric: "p50 latency", unit: "ms",
        value: round(pageT[db].p50, 3), better: "lower", extra: { p99: round(pageT[db].p99, 3), mean: round(pageT[db].mean, 3) },
      });
      const pageU = pageRow("unpartitioned");
      rows.push(pageU, compare(pageRow("partitioned"), pageU));
      log(`feature page (${form}) p50 partitioned ${round(pageT.partitioned.p50, 3)} ms, unpartitioned ${round(pageT.unpartitioned.p50, 3)} ms`);
    }

    // (a) + (b): ingest the new SAE, then delete it, each variant in turn, REPS times.
    const copies = await captureNewSae();
    const bytes = (bs: Buffer[]) => bs.reduce((n, b) => n + b.length, 0);
    meta.copyBytes = { feature: bytes(copies.feature), activation: bytes(copies.activation) };
    const variants: IngestVariant[] = ["unpartitioned", "partitioned-attached", "partitioned-detached"];
    const ingestT: Record<IngestVariant, Record<string, number>[]> = { unpartitioned: [], "partitioned-attached": [], "partitioned-detached": [] };
    const deleteT: Record<Db, number[]> = { partitioned: [], unpartitioned: [] };
    for (let r = 0; r < REPS; r++) {
      for (const v of variants) {
        const db: Db = v === "unpartitioned" ? "unpartitioned" : "partitioned";
        const p = await ingest(pools[db], v, copies);
        ingestT[v].push(p);
        log(`ingest ${v}: ${JSON.stringify(Object.fromEntries(Object.entries(p).map(([k, x]) => [k, Math.round(x)])))}`);
        const [n] = (await pools[db].query("SELECT (SELECT count(*) FROM feature WHERE sae_id = $1)::int + (SELECT count(*) FROM activation WHERE sae_id = $1)::int AS n", [NEW_SAE])).rows;
        if (n.n !== NEW_FEATURES * (1 + NEW_ACTS)) throw new Error(`ingest ${v}: ${n.n} rows`);
        let removed = 0;
        const ms = await timeMs(async () => (removed = await deleteSae(pools[db], db, NEW_SAE)));
        if (removed !== NEW_FEATURES * (1 + NEW_ACTS)) throw new Error(`deleteSae ${db}: ${removed} feature + activation rows`);
        if (v !== "partitioned-attached") deleteT[db].push(ms);
        log(`deleteSae ${db}: ${Math.round(ms)} ms`);
      }
    }
    const newSizes = { features: NEW_FEATURES, d_in: D_IN, activations: NEW_FEATURES * NEW_ACTS, tokens: TOKENS, storedSaes: SAES, storedFeatures: SAES * FEATURES };
    const med = (xs: number[]) => summarize(xs).median;
    const ingestRow = (v: IngestVariant): BenchRow => {
      const ph = ingestT[v];
      const extra = Object.fromEntries(Object.keys(ph[0]!).filter((k) => k !== "total").map((k) => [`${k} ms`, round(med(ph.map((p) => p[k]!)), 0)]));
      return {
        suite: "partition", name: `ingest of a new SAE (features + activations), ${v}`, backend: "postgres", sizes: newSizes,
        params: { replay: "the same binary COPY bytes", storage: v }, reps: REPS, metric: "wall time", unit: "s",
        value: round(med(ph.map((p) => p.total!)) / 1000, 2), better: "lower",
        extra: { ...extra, "rows/s": round((NEW_FEATURES * (1 + NEW_ACTS)) / (med(ph.map((p) => p.total!)) / 1000), 0) },
      };
    };
    const ingU = ingestRow("unpartitioned");
    rows.push(ingU, compare(ingestRow("partitioned-attached"), ingU), compare(ingestRow("partitioned-detached"), ingU));
    const attach = ingestT["partitioned-detached"].map((p) => p["attach+ready"]!);
    rows.push({
      suite: "partition", name: "attach transaction of the detached load (9 ATTACH + ready flip)", backend: "postgres", sizes: newSizes,
      params: { function: "monoscope_attach_sae_tables" }, reps: REPS, metric: "wall time", unit: "ms", value: round(med(attach), 1), better: "lower",
      extra: { max: round(Math.max(...attach), 1) },
    });
    const delRow = (db: Db): BenchRow => ({
      suite: "partition", name: `deleteSae of a ${NEW_FEATURES / 1000}k-feature SAE, ${db === "partitioned" ? "partitioned (drop partitions)" : "unpartitioned (DELETE rows)"}`,
      backend: "postgres", sizes: newSizes, params: { storage: db }, reps: deleteT[db].length, metric: "wall time", unit: "ms",
      value: round(med(deleteT[db]), 1), better: "lower", extra: { max: round(Math.max(...deleteT[db]), 1) },
    });
    const delU = delRow("unpartitioned");
    rows.push(delU, compare(delRow("partitioned"), delU));
    notes.push(
      `Two databases on one server: the current schema (per-SAE tables LIST-partitioned by SAE) and the schema up to ${PRE_PARTITION}; ` +
        `${SAES} SAEs x ${FEATURES} features (${ACTS} activations of ${TOKENS} tokens and one label each) seeded by the same SQL in both.`,
      "Ingest rows replay one captured binary COPY stream with each path's statements; ratios are against the unpartitioned row of the same run.",
      `PostgreSQL ${settings.server_version ?? "?"}; shared_buffers ${settings.shared_buffers ?? "?"}.`,
    );
  } finally {
    for (const p of Object.values(pools)) await p.end().catch(() => {});
    for (const d of Object.values(dbs)) await d.drop().catch(() => {});
  }
  emit({ suite: "partition", rows, notes, meta });
}

await main();
