// `monoscope rm --sae <id>`: delete an SAE with everything hanging off it.
import type { Command } from "commander";
import { withApp } from "../runtime.ts";

export function registerRm(program: Command) {
  program
    .command("rm")
    .description("delete an SAE with its features, activation examples, explanations, lineage edges and jobs")
    .requiredOption("--sae <id>", "the SAE to delete")
    .action(async (o: { sae: string }, cmd: Command) => {
      await withApp(cmd, async (app) => {
        const counts = await app.services.ingest.removeSae(o.sae);
        app.log.info(`removed SAE ${o.sae} (${counts.feature ?? 0} features, ${counts.activation ?? 0} activation examples, ${counts.explanation ?? 0} explanations)`);
        process.stdout.write(JSON.stringify({ saeId: o.sae, deleted: counts }) + "\n");
      });
    });
}
