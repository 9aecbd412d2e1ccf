// Demo step 1: load the family through the same importers `monoscope ingest` uses.
import { isAppError, ErrorCode } from "../errors.ts";
import { fingerprintFiles } from "../ingest/fingerprint.ts";
import type { IngestSummary } from "../ingest/ingest.types.ts";
import { importNativeActivations } from "../ingest/native/import-activations.ts";
import { importSaelens } from "../ingest/saelens/import-saelens.ts";
import { join } from "node:path";
import { DEMO_FAMILY_ID, DEMO_MODEL_ID, type DemoContext, type DemoSae, type DemoStep } from "./demo.types.ts";

export const ingestDemoFamily: DemoStep = {
  name: "ingest",
  async run(ctx) {
    const done: string[] = [];
    for (const sae of ctx.saes) done.push(`${sae.id} ${await ingestOne(ctx, sae)}`);
    return done.join(", ");
  },
};

async function ingestOne(ctx: DemoContext, sae: DemoSae): Promise<string> {
  const ingest = ctx.services.ingest;
  const weights = await importWeights(ctx, sae);
  // A rebuilt activations file must replace the old examples, not add to them.
  const file = join(sae.dir, "activations.jsonl.gz");
  const row = await ingest.findSae(sae.id);
  const imports = Array.isArray(row?.source.imports) ? (row.source.imports as { format?: string; contentHash?: string }[]) : [];
  const hash = await fingerprintFiles([file]);
  if (imports.some((i) => i.contentHash === hash)) return weights.outcome === "skipped" ? "up to date" : weights.outcome;
  const stale = imports.some((i) => i.format === "native");
  const acts = await importNativeActivations(ingest, { file, saeId: sae.id, replace: stale, progress: ctx.progress });
  return `${weights.outcome} (${weights.features} features), ${acts.activations} activation examples`;
}

async function importWeights(ctx: DemoContext, sae: DemoSae): Promise<IngestSummary> {
  const opts = { dir: sae.dir, saeId: sae.id, modelId: DEMO_MODEL_ID, familyId: DEMO_FAMILY_ID, progress: ctx.progress };
  try {
    return await importSaelens(ctx.services.ingest, opts);
  } catch (e) {
    // Same id, different weights: data/demo was rebuilt since the last run.
    if (!isAppError(e) || e.code !== ErrorCode.CONFLICT || !(await ctx.services.ingest.findSae(sae.id))) throw e;
    ctx.log.info(`${sae.id}: data/demo changed since it was loaded; reloading`);
    return importSaelens(ctx.services.ingest, { ...opts, replace: true });
  }
}
