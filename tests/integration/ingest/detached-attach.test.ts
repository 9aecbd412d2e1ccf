// An ingest of a new SAE loads into detached tables (a schema of its own) and attaches them as
// the SAE's partitions in the transaction that makes it ready: a reader on another connection
// sees either no SAE or all of it, a failed or killed ingest leaves nothing attached (and the
// rerun succeeds), and the attached partitions carry the parents' indexes and foreign keys, and
// their keys to the same SAE's partitions of other tables, built before the attach and adopted by it.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type App, createApp } from "../../../src/app.ts";
import { silentLogger } from "../../../src/logger.ts";
import { createTestDatabase, type TestDatabase } from "../../helpers/backend.ts";
import { DETACHED_SAE, detachedArtifact, produceDetached } from "../../helpers/detached-sae.ts";
import { rawQuery } from "../../helpers/row-counts.ts";

const root = join(import.meta.dirname, "..", "..", "..");
const PARTITIONED = ["activation", "activation_image", "explanation", "explanation_embedding", "explanation_score", "feature", "feature_dashboard", "lineage_edge", "search_document"];
const FULL = { features: DETACHED_SAE.features, activations: DETACHED_SAE.activations, explanations: DETACHED_SAE.explanations };

let tdb: TestDatabase;
let dir: string;
let app: App;

async function open(): Promise<App> {
  const config = tdb.backend === "pglite" ? { ...tdb.config, database: { kind: "pglite" as const, dataDir: join(dir, "pglite") } } : tdb.config;
  const a = await createApp(config, { log: silentLogger });
  a.services.ingest.steps = null;
  return a;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "monoscope-detached-"));
  tdb = await createTestDatabase();
  app = await open();
}, 180_000);
afterAll(async () => {
  await app?.close();
  await tdb?.drop();
  rmSync(dir, { recursive: true, force: true });
});

interface Seen {
  status: string | null;
  features: number;
  activations: number;
  explanations: number;
  partitions: number;
}

/** What a reader sees of one SAE, in one statement (one snapshot). */
async function seen(a: App, saeId: string): Promise<Seen> {
  const [r] = await rawQuery<Seen>(
    a.db,
    `SELECT (SELECT status FROM sae WHERE id = $1) AS status,
            (SELECT count(*)::int FROM feature WHERE sae_id = $1) AS features,
            (SELECT count(*)::int FROM activation WHERE sae_id = $1) AS activations,
            (SELECT count(*)::int FROM explanation WHERE sae_id = $1) AS explanations,
            (SELECT count(*)::int FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
              WHERE pg_get_expr(c.relpartbound, c.oid) = 'FOR VALUES IN (' || quote_literal($1) || ')') AS partitions`,
    [saeId],
  );
  return r!;
}

/** Rows in the SAE's detached feature table, or null when it has none. */
async function detachedFeatures(a: App, saeId: string): Promise<number | null> {
  const [s] = await rawQuery<{ s: string; exists: boolean }>(a.db, "SELECT monoscope_load_schema($1) AS s, to_regnamespace(quote_ident(monoscope_load_schema($1))) IS NOT NULL AS exists", [saeId]);
  if (!s!.exists) return null;
  const [n] = await rawQuery<{ n: number }>(a.db, `SELECT count(*)::int AS n FROM "${s!.s}".feature`);
  return n!.n;
}

const NOTHING: Seen = { status: null, features: 0, activations: 0, explanations: 0, partitions: 0 };
const LOADING: Seen = { ...NOTHING, status: "loading" };
const ALL: Seen = { status: "ready", ...FULL, partitions: PARTITIONED.length };

describe("detached load, atomic attach", () => {
  it("a reader on another connection sees no rows of the SAE while it loads, then all of them at once", async () => {
    const samples: Seen[] = [];
    let polling = true;
    const poller = (async () => {
      while (polling) samples.push(await seen(app, "watched"));
    })();
    let midway: Seen | null = null;
    let midwayDetached: number | null = null;
    const betweens: Seen[] = [];
    try {
      await app.services.ingest.ingestSae(detachedArtifact("watched"), (sink) =>
        produceDetached(
          sink,
          async () => {
            midway = await seen(app, "watched");
            midwayDetached = await detachedFeatures(app, "watched");
          },
          async () => void betweens.push(await seen(app, "watched")),
        ),
      );
    } finally {
      polling = false;
      await poller;
    }
    // Midway the feature rows are written, into the detached table only.
    expect(midwayDetached).toBe(DETACHED_SAE.features);
    expect(midway).toEqual(LOADING);
    for (const b of betweens) expect(b).toEqual(LOADING);
    samples.push(await seen(app, "watched"));
    expect(samples.length).toBeGreaterThan(2);
    for (const s of samples) expect([NOTHING, LOADING, ALL]).toContainEqual(s);
    expect(samples.at(-1)).toEqual(ALL);
    expect(await detachedFeatures(app, "watched")).toBeNull();
  }, 120_000);

  it("the attached partitions carry every index and foreign key of their parents and their keys to the same SAE's partitions, those built before the attach", async () => {
    for (const table of PARTITIONED) {
      const [p] = await rawQuery<{ part: string }>(app.db, "SELECT monoscope_partition_name($1, 'watched') AS part", [table]);
      const part = p!.part;
      // Each parent index has exactly one index on the partition attached to it, and the partition has no other.
      const idx = await rawQuery<{ parent: string; child: string | null; expected: string }>(
        app.db,
        `SELECT pi.relname AS parent, ci.relname AS child, monoscope_partition_index_name($2, pi.relname) AS expected
         FROM pg_index x JOIN pg_class pi ON pi.oid = x.indexrelid
         LEFT JOIN pg_inherits h ON h.inhparent = x.indexrelid AND h.inhrelid IN (SELECT indexrelid FROM pg_index WHERE indrelid = to_regclass(quote_ident($2)))
         LEFT JOIN pg_class ci ON ci.oid = h.inhrelid
         WHERE x.indrelid = to_regclass(quote_ident($1)) ORDER BY 1`,
        [table, part],
      );
      expect(idx.length, table).toBeGreaterThan(0);
      // Named as the load named them: ATTACH adopted the indexes built after the load, it built none.
      for (const r of idx) expect(r.child, `${table}: ${r.parent}`).toBe(r.expected);
      const [own] = await rawQuery<{ n: number }>(app.db, "SELECT count(*)::int AS n FROM pg_index WHERE indrelid = to_regclass(quote_ident($1))", [part]);
      expect(own!.n, table).toBe(idx.length);
      // Every foreign key of the parent (to an unpartitioned table) has its clone on the partition.
      // None references a partitioned table, so ATTACH has no key to validate against other SAEs' rows.
      const fks = await rawQuery<{ conname: string; cloned: number; partitioned: boolean }>(
        app.db,
        `SELECT c.conname, (SELECT count(*)::int FROM pg_constraint k WHERE k.conparentid = c.oid AND k.conrelid = to_regclass(quote_ident($2))) AS cloned,
                (SELECT relkind = 'p' FROM pg_class WHERE oid = c.confrelid) AS partitioned
         FROM pg_constraint c WHERE c.conrelid = to_regclass(quote_ident($1)) AND c.contype = 'f' AND c.conparentid = 0`,
        [table, part],
      );
      for (const f of fks) expect([f.cloned, f.partitioned], `${table}: ${f.conname}`).toEqual([1, false]);
      // The keys to other partitioned tables are the partition's own, validated, and reference the
      // same SAE's partition of the other table.
      const siblings = await rawQuery<{ name: string; found: string | null; validated: boolean | null }>(
        app.db,
        `SELECT f.name, c.confrelid::regclass::text AS found, c.convalidated AS validated
         FROM monoscope_sibling_foreign_keys() f
         LEFT JOIN pg_constraint c ON c.conname = f.name AND c.conrelid = to_regclass(quote_ident($2)) AND c.contype = 'f' AND c.conparentid = 0
         WHERE f.tbl = $1 ORDER BY f.name`,
        [table, part],
      );
      const refs = await rawQuery<{ name: string; part: string }>(
        app.db,
        "SELECT f.name, monoscope_partition_name(f.ref, 'watched') AS part FROM monoscope_sibling_foreign_keys() f WHERE f.tbl = $1 ORDER BY f.name",
        [table],
      );
      expect(siblings.map((r) => [r.name, r.found, r.validated]), table).toEqual(refs.map((r) => [r.name, r.part, true]));
      // Nothing else: no key of the partition's own beyond those, no load CHECK left.
      const [extra] = await rawQuery<{ n: number }>(
        app.db,
        `SELECT count(*)::int AS n FROM pg_constraint WHERE conrelid = to_regclass(quote_ident($1))
           AND (contype = 'f' AND conparentid = 0 AND conname NOT IN (SELECT name FROM monoscope_sibling_foreign_keys() WHERE tbl = $2) OR conname = 'monoscope_load_key')`,
        [part, table],
      );
      expect(extra!.n, table).toBe(0);
    }
    // The parents' DEFAULT partitions stayed empty (ATTACH checks them).
    for (const table of PARTITIONED) {
      const [d] = await rawQuery<{ n: number }>(app.db, `SELECT count(*)::int AS n FROM "${table}__default"`);
      expect(d!.n, table).toBe(0);
    }
    // The data reads back through the parents, with its foreign keys enforced there.
    const [f] = await rawQuery<{ n: number }>(app.db, "SELECT count(*)::int AS n FROM activation a JOIN feature f ON f.sae_id = a.sae_id AND f.idx = a.feature_idx WHERE a.sae_id = 'watched'");
    expect(f!.n).toBe(DETACHED_SAE.activations);
    await expect(rawQuery(app.db, "INSERT INTO activation (sae_id, feature_idx, ordinal, tokens, values, max_value, max_token_index, text) VALUES ('watched', 999999, 0, '{}', '{}', 0, 0, '')")).rejects.toThrow(/foreign key/);
  });

  it("a failed ingest leaves nothing attached and no detached tables; the rerun succeeds", async () => {
    await expect(
      app.services.ingest.ingestSae(detachedArtifact("fails"), (sink) =>
        produceDetached(sink, async () => {
          throw new Error("the artifact broke midway");
        }),
      ),
    ).rejects.toThrow(/broke midway/);
    expect(await seen(app, "fails")).toEqual(NOTHING);
    expect(await detachedFeatures(app, "fails")).toBeNull();
    await app.services.ingest.ingestSae(detachedArtifact("fails"), (sink) => produceDetached(sink, async () => {}));
    expect(await seen(app, "fails")).toEqual(ALL);
  }, 120_000);

  it("an ingest killed with SIGKILL mid-load leaves only its detached tables; the rerun discards them and succeeds", async () => {
    // The embedded database allows one process at a time.
    if (tdb.backend === "pglite") await app.close();
    const child = spawn(process.execPath, [join(root, "bin/run-ts.js"), join(root, "tests/helpers/killed-ingest.ts"), "killed"], {
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...tdb.env, ...(tdb.backend === "pglite" ? { MONOSCOPE_TEST_PGLITE_DIR: join(dir, "pglite") } : {}) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
    expect(exit.signal, err).toBe("SIGKILL");
    expect(out).toBe("loaded\n");
    if (tdb.backend === "pglite") app = await open();
    expect(await seen(app, "killed")).toEqual(LOADING);
    expect(await detachedFeatures(app, "killed")).toBe(DETACHED_SAE.features);
    expect((await app.services.sae.saes({})).map((s) => s.id)).not.toContain("killed");
    const r = await app.services.ingest.ingestSae(detachedArtifact("killed"), (sink) => produceDetached(sink, async () => {}));
    expect(r).toMatchObject({ outcome: "created", ...FULL });
    expect(await seen(app, "killed")).toEqual(ALL);
    expect(await detachedFeatures(app, "killed")).toBeNull();
  }, 180_000);

  it("rm of an SAE that a killed ingest left loading drops its detached tables", async () => {
    await app.services.ingest.ingestSae(detachedArtifact("left"), (sink) => produceDetached(sink, async () => {}));
    // What a kill leaves: the 'loading' row and the prepared tables (recreated here by hand).
    await rawQuery(app.db, "UPDATE sae SET status = 'loading' WHERE id = 'left'");
    await app.services.ingest.removeSae("left");
    await rawQuery(app.db, "INSERT INTO sae (id, name, model_id, architecture, d_in, d_sae, status) VALUES ('left', 'left', 'detached-model', 'standard', 8, 4, 'loading')");
    await rawQuery(app.db, "SELECT monoscope_prepare_sae_tables('left')");
    expect(await detachedFeatures(app, "left")).toBe(0);
    const counts = await app.services.ingest.removeSae("left");
    expect(counts.sae).toBe(1);
    expect(await detachedFeatures(app, "left")).toBeNull();
    expect(await seen(app, "left")).toEqual(NOTHING);
  });
});
