// `monoscope rm --sae <id>` / `--graph <slug>`: delete an SAE with everything hanging off it, or an attribution graph.
import type { Command } from "commander";
import { badInput } from "../../errors.ts";
import { currentClientRun } from "../remote/context.ts";
import { withApp } from "../runtime.ts";

export function registerRm(program: Command) {
  program
    .command("rm")
    .description("delete an SAE with its features, activation examples, explanations, lineage edges and jobs, or an attribution graph")
    .option("--sae <id>", "the SAE to delete")
    .option("--graph <slug>", "the attribution graph to delete (its nodes and links)")
    .action(async (o: { sae?: string; graph?: string }, cmd: Command) => {
      if ((o.sae === undefined) === (o.graph === undefined)) throw badInput("rm: give exactly one of --sae <id> or --graph <slug>");
      await withApp(cmd, async (app) => {
        if (o.graph !== undefined) {
          const deleted = await app.services.graph.delete(o.graph);
          if (!deleted) throw badInput(`--graph: no graph with slug ${JSON.stringify(o.graph)}`);
          app.log.info(`removed graph ${o.graph}`);
          process.stdout.write(JSON.stringify({ graph: o.graph, deleted: true }) + "\n");
          return;
        }
        const sae = o.sae!;
        // Embedded, in its own process, this process holds the data dir: no request can be reading
        // the SAE, so its rows go at once. Otherwise requests of a server may still read it: its rows
        // go after the grace (MONOSCOPE_DELETE_GRACE_MS), by the server that ran this verb, or here.
        const alone = app.config.database.kind === "pglite" && !currentClientRun();
        const counts = await app.services.ingest.removeSae(sae, { now: alone });
        app.log.info(`removed SAE ${sae} (${counts.feature ?? 0} features, ${counts.activation ?? 0} activation examples, ${counts.explanation ?? 0} explanations)`);
        if (!alone && !currentClientRun() && app.config.deleteGraceMs > 0) {
          app.log.info(`dropping its rows in ${Math.ceil(app.config.deleteGraceMs / 1000)} s, once requests that may still read it are done (MONOSCOPE_DELETE_GRACE_MS)`);
          await app.services.ingest.awaitDrop(sae);
        }
        process.stdout.write(JSON.stringify({ saeId: sae, deleted: counts }) + "\n");
      });
    });
}
