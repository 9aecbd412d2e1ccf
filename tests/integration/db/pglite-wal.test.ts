// The embedded database bounds its write-ahead log: a bulk ingest checkpoints as it goes,
// so the data dir holds the tables plus a few WAL segments (a demo setup used to leave
// 497 MB of WAL beside 339 MB of tables).
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { createApp } from "../../../src/app.ts";
import { loadConfig } from "../../../src/config.ts";
import { PGLITE_MAX_WAL_MB } from "../../../src/db/database.ts";
import { silentLogger } from "../../../src/logger.ts";
import { testBackend } from "../../helpers/backend.ts";
import { seedFeatures } from "../../helpers/feature-seed.ts";

const dir = mkdtempSync(join(tmpdir(), "monoscope-wal-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const bytes = (d: string): number =>
  readdirSync(d, { withFileTypes: true }).reduce((s, f) => s + (f.isDirectory() ? bytes(join(d, f.name)) : statSync(join(d, f.name)).size), 0);
const sizeMiB = (d: string) => bytes(d) / 2 ** 20;

it.runIf(testBackend() === "pglite")("keeps pg_wal within a few segments of max_wal_size after a bulk load", async () => {
  const config = loadConfig({ MONOSCOPE_DATA_DIR: dir, DATABASE_URL: "" } as NodeJS.ProcessEnv);
  const app = await createApp(config, { log: silentLogger });
  try {
    // A bulk load of activation examples, the bulk of a demo's data: about 230 MB of WAL.
    await seedFeatures(app, { n: 10, saeId: "wal/a", modelId: "wal", examples: 0 });
    for (let batch = 0; batch < 4; batch++)
      await app.db.sql`
        INSERT INTO activation (sae_id, feature_idx, ordinal, tokens, "values", max_value, max_token_index, kind, text)
        SELECT 'wal/a', i % 10, ${batch * 40_000} + i, array_fill(md5(i::text), ARRAY[24]), array_fill(1::real, ARRAY[24]), 1, 0, 'top', repeat(md5(i::text), 8)
        FROM generate_series(0, 39999) AS i`;
    const wal = sizeMiB(join(dir, "pglite", "pg_wal"));
    const tables = sizeMiB(join(dir, "pglite", "base"));
    console.log(`pglite after a bulk load of 160,000 examples: tables ${tables.toFixed(0)} MiB, WAL ${wal.toFixed(0)} MiB`);
    expect(wal).toBeLessThanOrEqual(2 * PGLITE_MAX_WAL_MB + 16);
  } finally {
    await app.close();
  }
  // At rest (after the shutdown checkpoint) too.
  expect(sizeMiB(join(dir, "pglite", "pg_wal"))).toBeLessThanOrEqual(2 * PGLITE_MAX_WAL_MB + 16);
});
