// `monoscope ingest saelens|neuronpedia|activations`: import SAE artifacts.
// The summary goes to stdout as one JSON line; progress and logs to stderr.
import type { Command } from "commander";
import type { App } from "../../app.ts";
import { createProgress, silentProgress } from "../../ingest/progress.ts";
import type { IngestSummary } from "../../ingest/ingest.types.ts";
import type { Logger } from "../../logger.ts";
import { cliPath, globalOptions, intOption, withApp } from "../runtime.ts";

function progressFor(cmd: Command) {
  return globalOptions(cmd).quiet ? silentProgress : createProgress();
}

function report(log: Logger, s: IngestSummary) {
  if (s.outcome === "skipped") log.info(`SAE ${s.saeId}: already up to date`);
  else {
    log.info(
      `SAE ${s.saeId} ${s.outcome}: ${s.features} features, ${s.activations} activation examples, ${s.explanations} explanations ` +
        `in ${s.seconds.toFixed(1)} s (${s.rowsPerSecond} rows/s)`,
    );
  }
  process.stdout.write(JSON.stringify(s) + "\n");
}

/**
 * `runWith` opens the app a verb runs against (tests pass their own, so the malformed-artifact
 * suite goes through these flag definitions and option mappings in process).
 */
export function registerIngest(program: Command, runWith: (cmd: Command, fn: (app: App) => Promise<void>) => Promise<void> = withApp) {
  const ingest = program.command("ingest").description("import SAE artifacts (SAELens checkpoints, Neuronpedia/SAEDashboard exports, activation JSONL)");

  ingest
    .command("saelens")
    .description("import a SAELens checkpoint directory (cfg.json, sae_weights.safetensors, optional sparsity.safetensors)")
    .argument("<dir>", "checkpoint directory")
    .requiredOption("--sae <id>", "id for the SAE (a slug, e.g. gpt2-small-res-jb-8)")
    .option("--model <id>", "model id (default: cfg.json model_name)")
    .option("--family <id>", "SAE family (SAEs of one model and hook with different sizes)")
    .option("--layer <n>", "layer (default: from cfg.json)", intOption("--layer", 0))
    .option("--model-dim <n>", "the model's d_model when it differs from the SAE's d_in", intOption("--model-dim", 1))
    .option("--replace", "reload even if this SAE id already holds other or the same content")
    .action(async (dir: string, o: { sae: string; model?: string; family?: string; layer?: number; modelDim?: number; replace?: boolean }, cmd: Command) => {
      const { importSaelens } = await import("../../ingest/saelens/import-saelens.ts");
      await runWith(cmd, async (app) => {
        const s = await importSaelens(app.services.ingest, {
          dir: cliPath(dir),
          saeId: o.sae,
          modelId: o.model,
          familyId: o.family,
          layer: o.layer,
          modelDim: o.modelDim,
          replace: o.replace,
          progress: progressFor(cmd),
        });
        report(app.log, s);
      });
    });

  ingest
    .command("neuronpedia")
    .description("import a SAEDashboard batch JSON file or a Neuronpedia export directory (features/, activations/, explanations/ JSONL, gzipped or not)")
    .argument("<path>", "batch-N.json file, or an export directory")
    .option("--sae <id>", "SAE id (default: <model>/<source> from the export)")
    .option("--model <id>", "model id (default: from the export)")
    .option("--family <id>", "SAE family")
    .option("--d-in <n>", "decoder dimension when the export has no vectors", intOption("--d-in", 1))
    .option("--d-sae <n>", "number of features of the SAE when the export does not say", intOption("--d-sae", 1))
    .option("--replace", "reload even if already ingested")
    .action(
      async (
        path: string,
        o: { sae?: string; model?: string; family?: string; dIn?: number; dSae?: number; replace?: boolean },
        cmd: Command,
      ) => {
        const { importNeuronpedia } = await import("../../ingest/neuronpedia/import-neuronpedia.ts");
        await runWith(cmd, async (app) => {
          const s = await importNeuronpedia(app.services.ingest, {
            path: cliPath(path),
            saeId: o.sae,
            modelId: o.model,
            familyId: o.family,
            dIn: o.dIn,
            dSae: o.dSae,
            replace: o.replace,
            progress: progressFor(cmd),
            log: app.log,
          });
          report(app.log, s);
        });
      },
    );

  ingest
    .command("graph")
    .description("import an attribution graph (circuit-tracer / Neuronpedia graph JSON); checked against Neuronpedia's published schema first")
    .argument("<file>", "graph .json file")
    .option("--sae-for-layer <layer=saeId>", "the SAE a layer's feature nodes belong to (repeatable), e.g. 12=gemma-3-1b/12-transcoder", (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option("--sae-template <template>", 'SAE id for every layer not named by --sae-for-layer, with {layer} in it, e.g. "gemma-3-1b/{layer}-transcoder-16k"')
    .option("--replace", "replace a stored graph of the same slug (the same file again is a no-op without it)")
    .action(async (file: string, o: { saeForLayer: string[]; saeTemplate?: string; replace?: boolean }, cmd: Command) => {
      const { parseLayerMapping } = await import("../../modules/graph/index.ts");
      const mapping = parseLayerMapping(o.saeForLayer, o.saeTemplate);
      await runWith(cmd, async (app) => {
        const s = await app.services.graph.ingestFile(cliPath(file), { file, mapping, replace: o.replace });
        if (s.outcome === "skipped") app.log.info(`graph ${s.slug}: already stored (same file and layer mapping)`);
        else app.log.info(`graph ${s.slug} ${s.outcome}: ${s.nodes} nodes, ${s.links} links, ${s.linkedNodes} of ${s.mappedNodes} mapped feature nodes linked to stored features in ${s.seconds.toFixed(1)} s`);
        process.stdout.write(JSON.stringify(s) + "\n");
      });
    });

  ingest
    .command("activations")
    .description("import activation examples and feature stats in Monoscope's JSONL format (see README: Native activation format)")
    .argument("<file>", "file.jsonl or file.jsonl.gz")
    .requiredOption("--sae <id>", "the SAE the records belong to (must exist)")
    .option("--replace", "replace the SAE's activation examples (and re-import a file already ingested)")
    .action(async (file: string, o: { sae: string; replace?: boolean }, cmd: Command) => {
      const { importNativeActivations } = await import("../../ingest/native/import-activations.ts");
      await runWith(cmd, async (app) => {
        const s = await importNativeActivations(app.services.ingest, {
          file: cliPath(file),
          saeId: o.sae,
          replace: o.replace,
          progress: progressFor(cmd),
          imageMaxBytes: app.config.images.maxBytes,
        });
        report(app.log, s);
      });
    });
}
