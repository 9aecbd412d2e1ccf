import type { Command } from "commander";
import { cliConfig, cliLogger, globalOptions } from "../runtime.ts";

export function registerMigrate(program: Command) {
  program
    .command("migrate")
    .description("apply pending database migrations (embedded or DATABASE_URL); a no-op when current")
    .action(async (_opts, cmd: Command) => {
      const { createApp } = await import("../../app.ts");
      const { migrate } = await import("../../db/migrate.ts");
      const g = globalOptions(cmd);
      const log = await cliLogger(g);
      const app = await createApp(await cliConfig(g), { log, migrate: false });
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
