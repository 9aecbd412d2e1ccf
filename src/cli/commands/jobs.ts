// `monoscope jobs`: list jobs, show one (with its failed items), cancel one, resume post-ingest steps.
import type { Command } from "commander";
import { formatUsd } from "../../modules/autointerp/autointerp.constants.ts";
import { badInput } from "../../errors.ts";
import { JobStatus } from "../../modules/job/job.constants.ts";
import { cancelJobOnServer, jobOnServer, jobsOnServer } from "../remote/http-verbs.ts";
import { intOption, servingApi, withApp } from "../runtime.ts";
import { summary } from "./autointerp.ts";

export function registerJobs(program: Command) {
  const jobs = program.command("jobs").description("list, inspect and cancel auto-interpretation jobs; resume post-ingest steps");
  jobs
    .command("list", { isDefault: true })
    .description("jobs, newest first")
    .option("--status <status>", `one of ${JobStatus.join(", ")}`)
    .option("--sae <id>", "only this SAE's jobs")
    .option("--first <n>", "how many", intOption("--first", 1), 20)
    .action(async (opts: { status?: string; sae?: string; first: number }, cmd: Command) => {
      const status = opts.status?.toUpperCase();
      if (status && !JobStatus.includes(status as JobStatus)) throw badInput(`--status must be one of ${JobStatus.join(", ")}`);
      const filter = { status: status as JobStatus | undefined, saeId: opts.sae };
      // Reads: a server holding the embedded data dir answers them over /graphql (even while it runs a long command).
      const api = await servingApi(cmd);
      const list = api
        ? await jobsOnServer(api, filter, opts.first)
        : await withApp(cmd, (app) => app.services.jobs.list(filter, opts.first));
      if (list.length === 0) process.stdout.write("no jobs\n");
      for (const j of list)
        process.stdout.write(
          `${j.id}  ${j.kind.padEnd(7)} ${j.status.padEnd(9)} ${String(j.done + j.failed).padStart(6)}/${String(j.total).padEnd(6)} ` +
            `${String(j.failed).padStart(4)} failed  ${formatUsd(j.costUsd).padStart(10)}  ${j.saeId ?? ""}  ${j.createdAt.toISOString()}\n`,
        );
    });
  jobs
    .command("show")
    .description("one job's totals, spend and failed items (with the raw answers that did not parse)")
    .argument("<id>")
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const api = await servingApi(cmd);
      const out = api
        ? await jobOnServer(api, id)
        : await withApp(cmd, async (app) => {
            const job = await app.services.jobs.require(id);
            const failed = await app.services.jobs.items(id, "FAILED", 1000);
            return { job, failed };
          });
      process.stdout.write(summary(out.job));
      for (const f of out.failed) {
        process.stdout.write(`  feature ${f.featureIndex}: ${f.error ?? "failed"}\n`);
        if (f.rawResponse) process.stdout.write(`    raw answer: ${JSON.stringify(f.rawResponse.slice(0, 300))}\n`);
      }
    });
  jobs
    .command("resume")
    .description("finish the post-ingest steps (neighbour lists, lineage, maps, search indexing, ...) an interrupted ingest left pending")
    .option("--sae <id>", "only this SAE's steps")
    .action(async (opts: { sae?: string }, cmd: Command) => {
      const r = await withApp(cmd, async (app) => {
        if (!opts.sae) return app.services.steps.resumeAll();
        await app.services.sae.requireSae(opts.sae);
        return { saes: [opts.sae], steps: await app.services.steps.runPending(opts.sae) };
      });
      process.stdout.write(r.steps ? `finished ${r.steps} post-ingest step(s) of ${r.saes.join(", ")}\n` : "no post-ingest steps pending\n");
    });
  jobs
    .command("cancel")
    .description("stop a queued or running job (finished items stay)")
    .argument("<id>")
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const api = await servingApi(cmd);
      const job = api ? await cancelJobOnServer(api, id) : await withApp(cmd, (app) => app.services.jobs.cancel(id));
      process.stdout.write(`job ${job.id}: ${job.status}${job.cancelRequested ? " (cancel requested; its runner stops after the items in flight)" : ""}\n`);
    });
}
