import type { Command } from "commander";
import { createApp } from "../../app.ts";
import { migrate } from "../../db/migrate.ts";
import { cliConfig, cliLogger, globalOptions } from "../runtime.ts";

export function registerMigrate(program: Command) {
  program
    .command("migrate")
    .description("apply pending database migrations (embedded or DATABASE_URL); a no-op when current")
    .action(async (_opts, cmd: Command) => {
      const g = globalOptions(cmd);
      const log = cliLogger(g);
      const app = await createApp(cliConfig(g), { log, migrate: false });
      try {
        const r = await migrate(app.db, (line) => log.info(line));
        log.info(
          r.applied.length
            ? `${app.db.location}: applied ${r.applied.length} migration(s), ${r.alreadyApplied} already applied`
            : `${app.db.location}: schema is current (${r.alreadyApplied} migration(s) applied); nothing to do`,
        );
      } finally {
        await app.close();
      }
    });
}
