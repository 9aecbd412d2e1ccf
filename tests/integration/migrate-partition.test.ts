// The SAE-partitioning migration converts a database made with the previous schema in place:
// every row survives unchanged, each per-SAE table becomes LIST-partitioned with one partition
// per SAE (plus a DEFAULT one), and the API reads the converted data.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type App, createApp } from "../../src/app.ts";
import type { Database } from "../../src/db/database.ts";
import { embeddingIndexStatement } from "../../src/db/ddl.ts";
import { migrate } from "../../src/db/migrate.ts";
import { executeQuery } from "../../src/graphql/execute.ts";
import { silentLogger } from "../../src/logger.ts";
import { createTestDatabase, type TestDatabase } from "../helpers/backend.ts";

const FIXTURE = join(import.meta.dirname, "..", "fixtures", "pre-partition");
const LAST = readFileSync(join(FIXTURE, "LAST_MIGRATION"), "utf8").trim();
const PARTITIONED: Record<string, string> = {
  feature: "sae_id",
  feature_dashboard: "sae_id",
  activation: "sae_id",
  activation_image: "sae_id",
  explanation: "sae_id",
  explanation_score: "sae_id",
  explanation_embedding: "sae_id",
  search_document: "sae_id",
  lineage_edge: "child_sae_id",
};
const SAES = ["gpt2-small/0-res-jb", "gpt2-small/1-res-jb.v2"];

async function raw(db: Database, sql: string): Promise<Record<string, unknown>[]> {
  if (db.driver.kind === "postgres") return (await db.driver.pool.query(sql)).rows;
  const results = await db.driver.pg.exec(sql);
  return (results.at(-1)?.rows ?? []) as Record<string, unknown>[];
}

/** Every row of a table as JSON text, sorted, limited to the given columns. */
async function snapshot(db: Database, table: string, columns?: string[]): Promise<string[]> {
  const rows = await raw(db, `SELECT to_jsonb(t) AS r FROM "${table}" t`);
  return rows
    .map((row) => {
      const r = row.r as Record<string, unknown>;
      const keys = (columns ?? Object.keys(r)).slice().sort();
      return JSON.stringify(keys.map((k) => [k, r[k]]));
    })
    .sort();
}

let tdb: TestDatabase;
let app: App;
const before = new Map<string, { columns: string[]; rows: string[] }>();

beforeAll(async () => {
  tdb = await createTestDatabase();
  app = await createApp(tdb.config, { memory: tdb.backend === "pglite", log: silentLogger, migrate: false });
  await migrate(app.db, () => {}, { until: LAST });
  await raw(app.db, readFileSync(join(FIXTURE, "data.sql"), "utf8"));
  const tables = await raw(app.db, `SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> '_prisma_migrations'`);
  for (const { tablename } of tables as { tablename: string }[]) {
    const cols = await raw(app.db, `SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = '${tablename}'`);
    const columns = cols.map((c) => String(c.column_name));
    before.set(tablename, { columns, rows: await snapshot(app.db, tablename) });
  }
  const r = await migrate(app.db);
  expect(r.applied[0]).toBe("20261202080000_partition_by_sae");
}, 120_000);
afterAll(async () => {
  await app?.close();
  await tdb?.drop();
});

describe("partition_by_sae migration on a pre-partition database", () => {
  it("the fixture has rows in every per-SAE table", () => {
    for (const t of Object.keys(PARTITIONED)) expect(before.get(t)?.rows.length, t).toBeGreaterThan(0);
  });

  it("keeps every row and column of every table unchanged", async () => {
    for (const [table, { columns, rows }] of before) {
      expect(await snapshot(app.db, table, columns), table).toEqual(rows);
    }
  });

  it("gives scores and embeddings the SAE of their explanation", async () => {
    for (const t of ["explanation_score", "explanation_embedding"]) {
      const bad = await raw(app.db, `SELECT count(*)::int AS n FROM "${t}" x JOIN explanation e ON e.id = x.explanation_id WHERE e.sae_id <> x.sae_id`);
      expect(Number(bad[0].n), t).toBe(0);
    }
  });

  it("partitions each per-SAE table by its key, one partition per SAE plus a DEFAULT one, empty", async () => {
    for (const [table, key] of Object.entries(PARTITIONED)) {
      const def = await raw(app.db, `SELECT pg_get_partkeydef('"${table}"'::regclass) AS d`);
      expect(def[0].d, table).toBe(`LIST (${key})`);
      const parts = await raw(
        app.db,
        `SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) AS bound FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = '"${table}"'::regclass ORDER BY c.relname`,
      );
      const names = await raw(app.db, `SELECT monoscope_partition_name('${table}', id) AS n FROM sae ORDER BY id`);
      expect(parts.map((p) => p.relname).sort(), table).toEqual([...names.map((n) => String(n.n)), `${table}__default`].sort());
      expect(parts.find((p) => p.relname === `${table}__default`)?.bound).toBe("DEFAULT");
      const inDefault = await raw(app.db, `SELECT count(*)::int AS n FROM "${table}__default"`);
      expect(Number(inDefault[0].n), table).toBe(0);
    }
    const rowsOfA = await raw(app.db, `SELECT count(*)::int AS n FROM "${(await raw(app.db, `SELECT monoscope_partition_name('feature', '${SAES[0]}') AS n`))[0].n}"`);
    expect(Number(rowsOfA[0].n)).toBe(3);
  });

  it("gives every SAE's partitions (and the DEFAULT ones) validated keys to the same SAE's partitions, none on the parents", async () => {
    const keys = await raw(app.db, "SELECT name, tbl, ref FROM monoscope_sibling_foreign_keys() ORDER BY name");
    expect(keys.length).toBe(8);
    const onParents = await raw(
      app.db,
      `SELECT c.conname FROM pg_constraint c JOIN pg_class r ON r.oid = c.confrelid JOIN pg_class t ON t.oid = c.conrelid
       WHERE c.contype = 'f' AND r.relkind = 'p' AND t.relkind = 'p'`,
    );
    expect(onParents).toEqual([]);
    const owners = [...SAES.map((id) => `monoscope_partition_name($t$, '${id}')`), "$t$ || '__default'"];
    for (const k of keys) {
      for (const owner of owners) {
        const [tbl, ref] = [owner.replaceAll("$t$", `'${k.tbl}'`), owner.replaceAll("$t$", `'${k.ref}'`)];
        const r = await raw(
          app.db,
          `SELECT c.confrelid::regclass::text AS ref, (${ref}) AS expected, c.convalidated AS v, c.conparentid = 0 AS own
           FROM pg_constraint c WHERE c.contype = 'f' AND c.conname = '${k.name}' AND c.conrelid = to_regclass(quote_ident(${tbl}))`,
        );
        expect(r.map((x) => [x.ref, x.v, x.own]), `${k.name} on ${tbl}`).toEqual([[r[0]?.expected, true, true]]);
      }
    }
    // Enforced: an activation of a feature the SAE does not have is refused.
    await expect(
      raw(app.db, `INSERT INTO activation (sae_id, feature_idx, ordinal, tokens, values, max_value, max_token_index, text) VALUES ('${SAES[0]}', 999999, 0, '{}', '{}', 0, 0, '')`),
    ).rejects.toThrow(/foreign key/);
  });

  it("rebuilds the per-embedder vector index on the partitioned table", async () => {
    const { name } = embeddingIndexStatement("hash-3", 3);
    const r = await raw(app.db, `SELECT c.relkind::text AS k, t.relname AS t FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid WHERE c.relname = '${name}'`);
    expect(r).toEqual([{ k: "I", t: "explanation_embedding" }]);
  });

  it("names partitions as safe identifiers for any SAE id", async () => {
    const r = await raw(app.db, `SELECT monoscope_partition_name('explanation_embedding', repeat('Ab"; DROP/x.', 20)) AS n`);
    expect(String(r[0].n)).toMatch(/^explanation_embedding__[a-z0-9_]{1,24}_[0-9a-f]{8}$/);
    expect(String(r[0].n).length).toBeLessThanOrEqual(63);
  });

  it("serves the converted data through the API", async () => {
    const res = await executeQuery(
      app,
      `{ feature(saeId: "${SAES[0]}", index: 0) { label density explanations { id text scores { metric value } } topActivations { tokens maxValue }
           children { feature { id } cosine } } }`,
    );
    expect(res.errors).toBeUndefined();
    const f = (res.data as any).feature;
    expect(f.density).toBeCloseTo(0.01);
    expect(f.explanations.map((e: any) => e.text).sort()).toEqual(["animals (human)", "cats and pets"]);
    expect(f.explanations.find((e: any) => e.id === "1").scores.map((s: any) => s.metric).sort()).toEqual(["accuracy", "f1"]);
    expect(f.topActivations.map((a: any) => a.maxValue)).toEqual([5.5, 2]);
    expect(f.children).toEqual([{ feature: { id: `${SAES[1]}:0` }, cosine: expect.closeTo(0.8, 5) }]);
  });

  it("deletes an SAE by dropping its partitions, and the images only it used", async () => {
    const counts = await app.services.ingest.removeSae(SAES[0]);
    expect(counts).toMatchObject({ sae: 1, feature: 3, activation: 3, activation_image: 1, explanation: 3, explanation_score: 2, lineage_edge: 3, example_image: 1 });
    for (const table of Object.keys(PARTITIONED)) {
      const r = await raw(app.db, `SELECT to_regclass(monoscope_partition_name('${table}', '${SAES[0]}'))::text AS p`);
      expect(r[0].p, table).toBeNull();
    }
    const left = await raw(app.db, `SELECT count(*)::int AS n FROM feature`);
    expect(Number(left[0].n)).toBe(2);
    const items = await raw(app.db, `SELECT sae_id FROM feature_list_item`);
    expect(items.map((i) => i.sae_id)).toEqual([SAES[1]]);
  });

  it("continues the id sequences after the fixture's rows", async () => {
    await raw(app.db, `INSERT INTO explanation (sae_id, feature_idx, text, method) VALUES ('${SAES[1]}', 1, 'new', 'human')`);
    const r = await raw(app.db, `SELECT id::int AS id FROM explanation WHERE text = 'new'`);
    expect(Number(r[0].id)).toBeGreaterThan(100);
  });
});
