// deleteSae is a soft delete (IngestService.removeSae): the SAE turns 'deleting' at once, so a
// request that starts afterwards finds nothing of it, while a request that resolved one of its
// features before the delete reads all of it to the end (each statement of a request has its own
// snapshot: this one runs its later statements after the delete committed). Its rows and
// partitions go once the grace period (MONOSCOPE_DELETE_GRACE_MS) has passed: by this process's
// timer, or by the next start or delete when the process went away.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { type App, createApp } from "../../../src/app.ts";
import type { Caller } from "../../../src/graphql/context.ts";
import { createContext } from "../../../src/graphql/create-context.ts";
import { createPipeline } from "../../../src/graphql/pipeline.ts";
import { runOperation } from "../../../src/graphql/run-operation.ts";
import { silentLogger } from "../../../src/logger.ts";
import type { FeatureService } from "../../../src/modules/feature/feature.service.ts";
import { createTestDatabase, testBackend, type TestDatabase } from "../../helpers/backend.ts";
import { runCli } from "../../helpers/cli.ts";
import { rawQuery } from "../../helpers/row-counts.ts";

const caller: Caller = { authenticated: true, clientId: "test" };
const FEATURES = 6;
const EXAMPLES = 3;
const TOKENS = ["The", " cat", " sat"];

async function ingest(app: App, id: string): Promise<void> {
  await app.services.ingest.ingestSae(
    { model: { id: "sd-model" }, sae: { id, architecture: "standard", dIn: 4, dSae: FEATURES }, source: { format: "test", path: "/tmp/sd" }, contentHash: `h-${id}` },
    async (sink) => {
      await sink.features(Array.from({ length: FEATURES }, (_, index) => ({ index, decoder: [1, index, 0, 1], density: 0.01 * (index + 1), maxActivation: 5 })));
      const acts = [];
      for (let index = 0; index < FEATURES; index++) for (let e = 0; e < EXAMPLES; e++) acts.push({ index, tokens: TOKENS, values: [0, 5 - e, 1], kind: "top" as const });
      await sink.activations(acts);
      await sink.explanations(Array.from({ length: FEATURES }, (_, index) => ({ index, text: `label ${index}` })));
    },
  );
}

/** The partitioned tables that have a partition for this SAE. */
async function partitions(app: App, id: string): Promise<string[]> {
  const rows = await rawQuery<{ parent: string }>(
    app.db,
    `SELECT p.relname AS parent FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
     WHERE pg_get_expr(c.relpartbound, c.oid) = $1 ORDER BY 1`,
    [`FOR VALUES IN ('${id}')`],
  );
  return rows.map((r) => r.parent);
}

async function rows(app: App, id: string): Promise<{ sae: number; feature: number; activation: number; explanation: number }> {
  const [r] = await rawQuery<{ sae: number; feature: number; activation: number; explanation: number }>(
    app.db,
    `SELECT (SELECT count(*) FROM sae WHERE id = $1)::int AS sae, (SELECT count(*) FROM feature WHERE sae_id = $1)::int AS feature,
            (SELECT count(*) FROM activation WHERE sae_id = $1)::int AS activation, (SELECT count(*) FROM explanation WHERE sae_id = $1)::int AS explanation`,
    [id],
  );
  return r!;
}

const READ = `query Read($s: ID!, $i: Int!) {
  feature(saeId: $s, index: $i) {
    index density
    sae { id dSae featureCount }
    explanations { text method }
    topActivations(first: 10) { tokens values }
    logits { positive { token value } }
    decoder
  }
}`;

/**
 * A request context whose feature statements (the row, or the row with its page in one) are
 * followed, once, by `between` before the request goes on: a delete committed between the
 * request's first statement and the rest. The services are the app's own; nothing is faked.
 */
function contextWithPause(app: App, between: () => Promise<void>) {
  let paused = false;
  const after = async <T>(p: Promise<T>): Promise<T> => {
    const v = await p;
    if (!paused) {
      paused = true;
      await between();
    }
    return v;
  };
  const real = app.services.feature;
  const feature = new Proxy(real, {
    get(target, prop, receiver) {
      if (prop === "featuresByKeys" || prop === "pagesByKeys") {
        return (...args: unknown[]) => after((target[prop] as (...a: unknown[]) => Promise<unknown>).apply(target, args));
      }
      const v = Reflect.get(target, prop, receiver);
      return typeof v === "function" ? v.bind(target) : v;
    },
  }) as FeatureService;
  return { ctx: createContext({ services: { ...app.services, feature }, config: app.config }, caller), paused: () => paused };
}

describe("deleteSae with a grace of 10 minutes", () => {
  const grace = "600000";
  let db: TestDatabase;
  let app: App;
  let dir: string;
  const open = () => createApp(db.config, { log: silentLogger });

  beforeAll(async () => {
    // A data dir on disk for the embedded backend, so the app can be closed and opened again.
    dir = mkdtempSync(join(tmpdir(), "monoscope-soft-delete-"));
    db = await createTestDatabase({ MONOSCOPE_DELETE_GRACE_MS: grace, MONOSCOPE_DATA_DIR: dir });
    app = await open();
    await ingest(app, "sd/a");
    await ingest(app, "sd/b");
  });
  afterAll(async () => {
    await app?.close();
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("a request that resolved a feature before the delete reads all of it after deleteSae returned", async () => {
    let counts: Record<string, number> | null = null;
    const { ctx, paused } = contextWithPause(app, async () => {
      counts = await app.services.ingest.removeSae("sd/a");
    });
    const r = await runOperation(createPipeline(app), { query: READ, variables: { s: "sd/a", i: 2 } }, ctx);
    expect(paused()).toBe(true);
    expect(r.errors).toBeUndefined();
    const f = (r.data as { feature: Record<string, unknown> }).feature;
    expect(f).toMatchObject({ index: 2, sae: { id: "sd/a", dSae: FEATURES, featureCount: FEATURES } });
    expect(f.explanations).toEqual([{ text: "label 2", method: "imported" }]);
    expect(f.topActivations).toHaveLength(EXAMPLES);
    for (const a of f.topActivations as { tokens: string[] }[]) expect(a.tokens).toEqual(TOKENS);
    expect(f.decoder).toHaveLength(4);
    // The answer of the delete: the rows it removes, counted at the delete.
    expect(counts).toMatchObject({ sae: 1, feature: FEATURES, activation: FEATURES * EXAMPLES, explanation: FEATURES });

    // The per-request loaders of a request that held the feature find the rest of it too.
    const key = { saeId: "sd/a", index: 4 };
    await ctx.loaders.feature.feature.load(key);
    expect(await ctx.loaders.feature.activations(10, ["TOP"]).load(key)).toHaveLength(EXAMPLES);
    expect((await ctx.loaders.explanation.all.load(key)).map((e) => e.text)).toEqual(["label 4"]);
    expect((await ctx.loaders.sae.sae.load("sd/a"))?.id).toBe("sd/a");
  });

  it("a request that starts after deleteSae finds nothing of the SAE", async () => {
    const run = (query: string, variables: Record<string, unknown> = {}) => runOperation(createPipeline(app), { query, variables }, createContext(app, caller));
    const r = await run(`{ sae(id: "sd/a") { id } feature(saeId: "sd/a", index: 2) { index } saes { id } }`);
    expect(r.errors).toBeUndefined();
    expect(r.data).toEqual({ sae: null, feature: null, saes: [{ id: "sd/b" }] });
    const page = await run(`{ features(saeId: "sd/a", first: 3) { totalCount } }`);
    expect(page.errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
    // Deleting it again: not found (the mutation answers false).
    const again = await run(`mutation { deleteSae(id: "sd/a") }`);
    expect(again.data).toEqual({ deleteSae: false });
    // The other SAE is untouched.
    expect((await run(`{ feature(saeId: "sd/b", index: 2) { index } }`)).data).toEqual({ feature: { index: 2 } });
  });

  it("keeps the rows during the grace; after it, a new start drops them (a closed process left them)", async () => {
    expect(await rows(app, "sd/a")).toEqual({ sae: 1, feature: FEATURES, activation: FEATURES * EXAMPLES, explanation: FEATURES });
    expect(await partitions(app, "sd/a")).not.toEqual([]);
    await app.close();
    app = await open();
    // Still within the grace: a restart keeps them.
    expect((await rows(app, "sd/a")).feature).toBe(FEATURES);
    // The grace has passed (the delete moved 11 minutes back by the database's clock): the next start drops them.
    await rawQuery(app.db, "UPDATE sae SET updated_at = updated_at - interval '11 minutes' WHERE id = 'sd/a'");
    await app.close();
    app = await open();
    expect(await rows(app, "sd/a")).toEqual({ sae: 0, feature: 0, activation: 0, explanation: 0 });
    expect(await partitions(app, "sd/a")).toEqual([]);
    expect((await rows(app, "sd/b")).feature).toBe(FEATURES);
  });

  it("ingesting the id of an SAE being deleted waits for the rest of its grace, then loads it again", async () => {
    await app.services.ingest.removeSae("sd/b");
    await rawQuery(app.db, "UPDATE sae SET updated_at = updated_at - interval '10 minutes' + interval '1 second' WHERE id = 'sd/b'");
    await ingest(app, "sd/b");
    expect(await rows(app, "sd/b")).toEqual({ sae: 1, feature: FEATURES, activation: FEATURES * EXAMPLES, explanation: FEATURES });
    const r = await runOperation(createPipeline(app), { query: `{ feature(saeId: "sd/b", index: 1) { index explanations { text } } }` }, createContext(app, caller));
    expect(r.data).toEqual({ feature: { index: 1, explanations: [{ text: "label 1" }] } });
  });
});

describe("deleteSae with a grace of 3 s", () => {
  let db: TestDatabase;
  let app: App;
  beforeAll(async () => {
    db = await createTestDatabase({ MONOSCOPE_DELETE_GRACE_MS: "3000" });
    app = await createApp(db.config, { memory: db.backend === "pglite", log: silentLogger });
    await ingest(app, "sd/c");
  });
  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it("this process's timer drops the rows once the grace has passed", async () => {
    await app.services.ingest.removeSae("sd/c");
    expect((await rows(app, "sd/c")).feature).toBe(FEATURES);
    await vi.waitFor(async () => expect(await rows(app, "sd/c")).toEqual({ sae: 0, feature: 0, activation: 0, explanation: 0 }), { timeout: 30_000, interval: 250 });
    expect(await partitions(app, "sd/c")).toEqual([]);
  });
});

describe("monoscope rm", () => {
  // Embedded, the CLI holds the data dir alone: it drops at once (the grace here is 10 minutes).
  // On PostgreSQL a server may be reading the SAE: it waits for the grace (2 s here), then drops.
  const grace = testBackend() === "pglite" ? "600000" : "2000";
  let db: TestDatabase;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "monoscope-soft-delete-cli-"));
    db = await createTestDatabase({ MONOSCOPE_DELETE_GRACE_MS: grace, MONOSCOPE_DATA_DIR: dir });
    const app = await createApp(db.config, { log: silentLogger });
    await ingest(app, "sd/cli");
    await app.close();
  });
  afterAll(async () => {
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("exits once the SAE's rows are dropped", { timeout: 120_000 }, async () => {
    const r = runCli(dir, db.env, ["rm", "--sae", "sd/cli"]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).deleted).toMatchObject({ sae: 1, feature: FEATURES, activation: FEATURES * EXAMPLES });
    if (db.backend === "postgres") {
      expect(r.stderr).toMatch(/dropping its rows in 2 s/);
      // Read without an app (whose start would drop what is due itself).
      const c = new pg.Client({ connectionString: db.url });
      await c.connect();
      try {
        const { rows: left } = await c.query("SELECT (SELECT count(*) FROM sae WHERE id = 'sd/cli')::int AS sae, (SELECT count(*) FROM feature WHERE sae_id = 'sd/cli')::int AS feature");
        expect(left[0]).toEqual({ sae: 0, feature: 0 });
      } finally {
        await c.end();
      }
    } else {
      const app = await createApp(db.config, { log: silentLogger });
      try {
        expect(await rows(app, "sd/cli")).toEqual({ sae: 0, feature: 0, activation: 0, explanation: 0 });
        expect(await partitions(app, "sd/cli")).toEqual([]);
      } finally {
        await app.close();
      }
    }
  });
});
