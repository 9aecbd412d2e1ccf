// The verbs a server runs for local clients: every verb of the CLI but `serve` and
// `demo` (the data dir is already served), with the same global options as src/cli/main.ts.
import { Command } from "commander";
import { registerAutoInterp } from "../commands/autointerp.ts";
import { registerExport } from "../commands/export.ts";
import { registerIngest } from "../commands/ingest.ts";
import { registerJobs } from "../commands/jobs.ts";
import { registerLabel } from "../commands/label.ts";
import { registerLineage } from "../commands/lineage.ts";
import { registerMap } from "../commands/map.ts";
import { registerMigrate } from "../commands/migrate.ts";
import { registerQuery } from "../commands/query.ts";
import { registerRm } from "../commands/rm.ts";
import { registerSearch } from "../commands/search.ts";

/** A fresh program per run: commander keeps parsed options on its command objects. */
export function verbProgram(): Command {
  const program = new Command("monoscope")
    .option("--data-dir <dir>")
    .option("-v, --verbose")
    .option("-q, --quiet")
    .showHelpAfterError()
    .exitOverride();
  for (const register of [registerMigrate, registerQuery, registerSearch, registerIngest, registerLineage, registerAutoInterp, registerLabel, registerJobs, registerMap, registerExport, registerRm]) {
    register(program);
  }
  return program;
}
