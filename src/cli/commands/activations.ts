// `monoscope activations build`: an SAE's dashboards (top and quantile examples, density,
// histogram, correlated neurons) computed from a corpus through an activation source.
// Several SAEs of one model (--sae a --sae b) build in one pass over the corpus. The summary goes
// to stdout as one JSON line per SAE; progress and logs to stderr.
import { join } from "node:path";
import type { Command } from "commander";
import type { App } from "../../app.ts";
import { createProgress, silentProgress } from "../../ingest/progress.ts";
import { badInput } from "../../errors.ts";
import { cliPath, globalOptions, intOption, withApp } from "../runtime.ts";
import type { BuildHook, BuildSae, BuildSource } from "../../ingest/activations-build/activations-build.ts";

interface BuildFlags {
  sae: string[];
  corpus: string;
  source?: string;
  maxTokens?: number;
  top: number;
  quantiles: number;
  replace?: boolean;
  checkpointEvery: number;
}

/** The activation source for the SAE's hook (the registry's), checked against --source when given. */
function sourceFor(app: App, hook: BuildHook, saeId: string, name: string | undefined): BuildSource {
  const source = app.services.sources.sourceFor(hook, saeId);
  if (name !== undefined && source.name !== name && !source.name.startsWith(`${name}:`)) {
    throw badInput(`--source: SAE ${JSON.stringify(saeId)} is served by ${JSON.stringify(source.name)}, not ${JSON.stringify(name)}`);
  }
  return source;
}

/** `--sae a --sae b`: every value, in order. */
const collect = (v: string, prev: string[] | undefined) => [...(prev ?? []), v];

/** The SAEs named by --sae, each with its hook, checked to read one model through one source before anything runs. */
async function plan(app: App, ids: readonly string[], name: string | undefined): Promise<{ saes: BuildSae[]; source: BuildSource }> {
  const saes: BuildSae[] = [];
  for (const id of new Set(ids)) {
    const sae = await app.services.sae.requireSae(id);
    if (sae.hookName === null) throw badInput(`--sae: SAE ${JSON.stringify(id)} was imported without a hook_name, so no model can say where it reads`);
    const first = saes[0];
    if (first && first.hook.modelName !== sae.modelId) {
      throw badInput(
        `--sae: SAE ${JSON.stringify(id)} reads model ${JSON.stringify(sae.modelId)}, but SAE ${JSON.stringify(first.saeId)} reads ${JSON.stringify(first.hook.modelName)}; ` +
          "one build runs SAEs of one model (build the others separately)",
      );
    }
    saes.push({ saeId: id, hook: { modelName: sae.modelId, hookName: sae.hookName, dIn: sae.dIn } });
  }
  const sources = saes.map((s) => sourceFor(app, s.hook, s.saeId, name));
  const other = sources.findIndex((s) => s !== sources[0]);
  if (other >= 0) {
    throw badInput(`--sae: SAE ${JSON.stringify(saes[other]!.saeId)} is served by ${JSON.stringify(sources[other]!.name)}, but SAE ${JSON.stringify(saes[0]!.saeId)} by ${JSON.stringify(sources[0]!.name)}; one build reads one source`);
  }
  return { saes, source: sources[0]! };
}

export function registerActivations(program: Command) {
  const activations = program.command("activations").description("compute activation examples and feature stats from a corpus");
  activations
    .command("build")
    .description(
      "run a corpus through the SAE's activation source and stored encoder; store per feature its top and quantile examples, " +
        "density, activation histogram and most correlated neuron (resumes after a kill; one transaction per SAE)",
    )
    .requiredOption(
      "--sae <id>",
      "the SAE (must exist, with its encoder weights); repeat for several SAEs of one model, built in one pass (one forward pass per batch for all their hooks)",
      collect,
    )
    .requiredOption("--corpus <file>", "file.txt (one text a line) or file.jsonl ({\"text\": …, \"source\"?: …} a line), optionally gzipped")
    .option("--source <name>", "activation source (default: the one that serves the SAE's model and hook)")
    .option("--max-tokens <n>", "stop after this many corpus tokens", intOption("--max-tokens", 1))
    .option("--top <n>", "top examples per feature", intOption("--top", 1), 20)
    .option("--quantiles <n>", "activation quantile bins sampled per feature (2 texts each)", intOption("--quantiles", 0), 5)
    .option("--replace", "replace the SAE's existing activation examples (and rebuild a build already stored)")
    .option("--checkpoint-every <seconds>", "seconds between checkpoints of the scan", intOption("--checkpoint-every", 0), 30)
    .action(async (o: BuildFlags, cmd: Command) => {
      const { buildActivationsMany } = await import("../../ingest/activations-build/activations-build.ts");
      const { createKernel } = await import("../../kernel/index.ts");
      await withApp(cmd, async (app) => {
        if (o.top > 200) throw badInput(`--top must be at most 200, got ${o.top}`);
        if (o.quantiles > 100) throw badInput(`--quantiles must be at most 100, got ${o.quantiles}`);
        const { saes, source } = await plan(app, o.sae, o.source);
        const kernel = await createKernel({ backend: app.config.kernel.backend });
        try {
          const summaries = await buildActivationsMany(
            { ingest: app.services.ingest, encode: app.services.encode, kernel },
            {
              saes,
              corpus: cliPath(o.corpus),
              source,
              checkpointDir: join(app.config.dataDir, "activations-build"),
              top: o.top,
              quantiles: o.quantiles,
              maxTokens: o.maxTokens ?? null,
              replace: o.replace,
              progress: globalOptions(cmd).quiet ? silentProgress : createProgress(),
              log: app.log,
              checkpointSeconds: o.checkpointEvery,
            },
          );
          for (const s of summaries) {
            if (s.outcome !== "skipped") {
              app.log.info(
                `SAE ${s.saeId}: ${s.texts} texts, ${s.tokens} tokens through ${s.source} in ${s.scanSeconds.toFixed(1)} s (${s.tokensPerSecond} tokens/s); ` +
                  `${s.features} features, ${s.examples} examples stored`,
              );
            }
            process.stdout.write(JSON.stringify(s) + "\n");
          }
        } finally {
          await kernel.close();
        }
      });
    });
}
