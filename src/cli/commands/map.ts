// `monoscope map --sae <id>`: compute and store an SAE's 2-D UMAP map of decoder directions
// (Feature.umap). Runs automatically after ingest for SAEs up to 20k features.
import type { Command } from "commander";
import { InvalidArgumentError } from "commander";
import { intOption, withApp } from "../runtime.ts";

function floatOption(flag: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < min || n > max) throw new InvalidArgumentError(`${flag} must be a number between ${min} and ${max}, got ${JSON.stringify(value)}`);
    return n;
  };
}

export function registerMap(program: Command) {
  program
    .command("map")
    .description("compute and store an SAE's 2-D UMAP map of decoder directions (cosine kNN graph, seeded: the same data and seed give the same map)")
    .requiredOption("--sae <id>", "the SAE to map")
    .option("--seed <n>", "random seed", intOption("--seed", 0), 42)
    .option("--neighbors <n>", "neighbours per feature in the kNN graph", intOption("--neighbors", 2), 15)
    .option("--min-dist <x>", "minimum distance between mapped points", floatOption("--min-dist", 0, 10), 0.1)
    .option("--epochs <n>", "optimisation epochs (default: 200-500 by size)", intOption("--epochs", 1))
    .action(async (o: { sae: string; seed: number; neighbors: number; minDist: number; epochs?: number }, cmd: Command) => {
      await withApp(cmd, async (app) => {
        const r = await app.services.umap.build(
          o.sae,
          { seed: o.seed, nNeighbors: o.neighbors, minDist: o.minDist, nEpochs: o.epochs },
          (line) => app.log.info(line),
        );
        process.stdout.write(JSON.stringify({ saeId: r.saeId, features: r.features, seconds: Number(r.seconds.toFixed(2)) }) + "\n");
      });
    });
}
