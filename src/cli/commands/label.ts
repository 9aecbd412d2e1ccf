// `monoscope label --sae <id>`: offline labels (token-pattern/v1) from each feature's
// most characteristic activating tokens and contexts. No LLM, no network.
import type { Command } from "commander";
import { withApp } from "../runtime.ts";

export function registerLabel(program: Command) {
  program
    .command("label")
    .description("write offline labels (method token-pattern/v1, no LLM) for every alive feature of an SAE")
    .requiredOption("--sae <id>", "the SAE to label")
    .action(async (opts: { sae: string }, cmd: Command) => {
      const r = await withApp(cmd, (app) => app.services.autointerp.writeTokenPatternLabels(opts.sae));
      process.stdout.write(`${opts.sae}: token-pattern/v1 labels for ${r.labelled} of ${r.alive} alive features\n`);
    });
}
