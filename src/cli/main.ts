// The `monoscope` command: parses arguments and runs one verb.
import { Command, CommanderError } from "commander";
import { registerMigrate } from "./commands/migrate.ts";
import { registerQuery } from "./commands/query.ts";
import { registerSearch } from "./commands/search.ts";
import { registerServe } from "./commands/serve.ts";
import { registerDemo } from "./commands/demo.ts";
import { registerIngest } from "./commands/ingest.ts";
import { registerLineage } from "./commands/lineage.ts";
import { registerAutoInterp } from "./commands/autointerp.ts";
import { registerJobs } from "./commands/jobs.ts";
import { registerLabel } from "./commands/label.ts";
import { registerMap } from "./commands/map.ts";
import { registerExport } from "./commands/export.ts";
import { registerRm } from "./commands/rm.ts";
import { registerActivations } from "./commands/activations.ts";
import { reportError } from "./runtime.ts";

const program = new Command("monoscope")
  .description("Monoscope: a database and GraphQL API for sparse-autoencoder features")
  .option("--data-dir <dir>", "embedded database location (default ./.monoscope or MONOSCOPE_DATA_DIR); ignored when DATABASE_URL is set")
  .option("-v, --verbose", "more log output on stderr")
  .option("-q, --quiet", "only warnings and errors on stderr")
  .showHelpAfterError()
  .exitOverride();

registerMigrate(program);
registerQuery(program);
registerSearch(program);
registerServe(program);
registerDemo(program);
registerIngest(program);
registerLineage(program);
registerAutoInterp(program);
registerLabel(program);
registerJobs(program);
registerMap(program);
registerExport(program);
registerRm(program);
registerActivations(program);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    process.exitCode = e.exitCode;
  } else {
    process.exitCode = reportError(e);
  }
}
