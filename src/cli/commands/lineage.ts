// `monoscope lineage build --family <id>`: exact split lineage between consecutive sizes of a
// family (also run automatically after ingesting into a family). Summary JSON on stdout,
// per-pair progress on stderr.
import type { Command } from "commander";
import { badInput } from "../../errors.ts";
import { intOption, withApp } from "../runtime.ts";

interface BuildOptions {
  family: string;
  threshold: number;
  parents: number;
}

const thresholdOption = (value: string): number => {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n)) throw badInput(`--threshold must be a number, got ${JSON.stringify(value)}`);
  return n;
};

export function registerLineage(program: Command) {
  const lineage = program.command("lineage").description("split lineage across a family of SAE sizes");
  lineage
    .command("build")
    .description("compute every feature's best parents in the next smaller SAE (exact decoder cosines) and classify splits")
    .requiredOption("--family <id>", "the family to build")
    .option("--threshold <cosine>", "cosine at which a parent-child link counts (STABLE/SPLIT/INHERITED)", thresholdOption, 0.5)
    .option("--parents <n>", "parents kept per child above the threshold", intOption("--parents", 1), 4)
    .action(async (opts: BuildOptions, cmd: Command) => {
      await withApp(cmd, async (app) => {
        const summary = await app.services.geometry.lineage.build(
          opts.family,
          { threshold: opts.threshold, parentsPerChild: opts.parents },
          (line) => app.log.info(line),
        );
        process.stdout.write(JSON.stringify(summary, null, 2) + "\n");
      });
    });
}
