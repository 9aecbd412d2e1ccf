// `monoscope export neuronpedia --sae <id> --out <dir>`.
import type { Command } from "commander";
import { withApp } from "../runtime.ts";

export function registerExport(program: Command) {
  const exp = program.command("export").description("export SAE data");
  exp
    .command("neuronpedia")
    .description("write an SAE in Neuronpedia's export layout (features/, activations/, explanations/ as gzipped JSONL); `ingest neuronpedia` reads it back")
    .requiredOption("--sae <id>", "the SAE to export")
    .requiredOption("--out <dir>", "output directory (created; existing files of the same names are overwritten)")
    .action(async (o: { sae: string; out: string }, cmd: Command) => {
      const { ExportRepository } = await import("../../ingest/export/export.repository.ts");
      const { exportNeuronpedia } = await import("../../ingest/export/export-neuronpedia.ts");
      await withApp(cmd, async (app) => {
        const s = await exportNeuronpedia(new ExportRepository(app.db), o.sae, o.out);
        app.log.info(`exported SAE ${s.saeId} to ${s.out}: ${s.features} features, ${s.activations} activation examples, ${s.explanations} explanations in ${s.seconds.toFixed(1)} s`);
        process.stdout.write(JSON.stringify(s) + "\n");
      });
    });
}
