// `monoscope export neuronpedia --sae <id> --out <dir>` and `monoscope export activations --sae <id> --out <file.jsonl.gz>`.
import type { Command } from "commander";
import { writeFile } from "node:fs/promises";
import { cliPath, withApp } from "../runtime.ts";

export function registerExport(program: Command) {
  const exp = program.command("export").description("export SAE data");
  exp
    .command("neuronpedia")
    .description("write an SAE in Neuronpedia's export layout (features/, activations/, explanations/ as gzipped JSONL); `ingest neuronpedia` reads it back")
    .requiredOption("--sae <id>", "the SAE to export")
    .requiredOption("--out <dir>", "output directory (created; existing files of the same names are overwritten)")
    .action(async (o: { sae: string; out: string }, cmd: Command) => {
      await withApp(cmd, async (app) => {
        const s = await app.services.exporter.neuronpedia(o.sae, cliPath(o.out));
        app.log.info(`exported SAE ${s.saeId} to ${s.out}: ${s.features} features, ${s.activations} activation examples, ${s.explanations} explanations in ${s.seconds.toFixed(1)} s`);
        process.stdout.write(JSON.stringify(s) + "\n");
      });
    });
  exp
    .command("activations")
    .description("write an SAE's activation examples and feature stats as native JSONL (`ingest activations` reads it back); images go beside it in <name>.images/")
    .requiredOption("--sae <id>", "the SAE to export")
    .requiredOption("--out <file>", "file.jsonl or file.jsonl.gz (gzipped); overwritten if it exists")
    .action(async (o: { sae: string; out: string }, cmd: Command) => {
      await withApp(cmd, async (app) => {
        const s = await app.services.exporter.nativeActivations(o.sae, cliPath(o.out));
        app.log.info(`exported SAE ${s.saeId} to ${s.out}: ${s.features} feature records, ${s.activations} activation examples, ${s.images} images in ${s.seconds.toFixed(1)} s`);
        process.stdout.write(JSON.stringify(s) + "\n");
      });
    });
  exp
    .command("graph")
    .description("write a stored attribution graph as graph JSON rebuilt from its rows (Neuronpedia's schema accepts it; `ingest graph` reads it back)")
    .argument("<slug>", "the graph's slug (metadata.slug)")
    .requiredOption("--out <file>", "output file (overwritten)")
    .action(async (slug: string, o: { out: string }, cmd: Command) => {
      await withApp(cmd, async (app) => {
        const t0 = performance.now();
        const doc = await app.services.graph.exportFile(slug);
        await writeFile(cliPath(o.out), JSON.stringify(doc));
        const s = { slug, out: cliPath(o.out), nodes: (doc.nodes as unknown[]).length, links: (doc.links as unknown[]).length, seconds: (performance.now() - t0) / 1000 };
        app.log.info(`exported graph ${slug} to ${s.out}: ${s.nodes} nodes, ${s.links} links`);
        process.stdout.write(JSON.stringify(s) + "\n");
      });
    });
}
