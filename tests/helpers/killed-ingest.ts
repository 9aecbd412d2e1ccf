// A child process for tests/integration/ingest/detached-attach.test.ts: opens the database named
// by its environment (DATABASE_URL, or the PGlite data directory MONOSCOPE_TEST_PGLITE_DIR),
// starts an ingest of SAE argv[2], and kills itself with SIGKILL in the middle of the load, once
// rows are in the SAE's detached tables: what a kill -9 of `monoscope ingest` leaves behind.
import { createApp } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import { silentLogger } from "../../src/logger.ts";
import { detachedArtifact, produceDetached } from "./detached-sae.ts";

const saeId = process.argv[2]!;
const dataDir = process.env.MONOSCOPE_TEST_PGLITE_DIR;
const base = loadConfig({ DATABASE_URL: process.env.DATABASE_URL ?? "" } as NodeJS.ProcessEnv);
const config = dataDir ? { ...base, database: { kind: "pglite" as const, dataDir } } : base;
const app = await createApp(config, { log: silentLogger });
app.services.ingest.steps = null;
await app.services.ingest.ingestSae(detachedArtifact(saeId), (sink) =>
  produceDetached(sink, async () => {
    process.stdout.write("loaded\n", () => process.kill(process.pid, "SIGKILL"));
    await new Promise(() => {});
  }),
);
process.stdout.write("not killed\n");
