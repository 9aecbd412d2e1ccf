import type { Command } from "commander";
import { withApp } from "../runtime.ts";

export function registerMigrate(program: Command) {
  program
    .command("migrate")
    .description("apply pending database migrations (embedded or DATABASE_URL); a no-op when current")
    .action(async (_opts, cmd: Command) => {
      await withApp(
        cmd,
        async (app) => {
          const { migrate } = await import("../../db/migrate.ts");
          const r = await migrate(app.db, (line) => app.log.info(line));
          app.log.info(
            r.applied.length
              ? `${app.db.location}: applied ${r.applied.length} migration(s), ${r.alreadyApplied} already applied`
              : `${app.db.location}: schema is current (${r.alreadyApplied} migration(s) applied); nothing to do`,
          );
        },
        { migrate: false },
      );
    });
}
