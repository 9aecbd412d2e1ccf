// Seeded data for the hostile-input campaign (a family of two sizes with neighbour lists
// and lineage, an SAE with dashboards and examples, explanations with scores, a job with
// items, and one SAE that exists to be deleted), the valid values that reach it, and a
// fingerprint of every table to prove that a phase changed nothing.
import type { GraphQLArgument } from "graphql";
import type { App } from "../../src/app.ts";
import type { Database } from "../../src/db/database.ts";
import { seedFeatures } from "./feature-seed.ts";
import { smallGraph } from "./graph-files.ts";
import { ingestSaeLike } from "./geometry-seed.ts";
import type { HostileValue } from "./hostile-values.ts";
import { rawQuery } from "./row-counts.ts";

export const D_IN = 16;
export const SEEDED = {
  model: "hm",
  family: "hfam",
  small: "hm/fam/32",
  large: "hm/fam/128",
  dash: "hm/res/0",
  victim: "hm/victim",
  job: "job-hostile-1",
  /** A TopK SAE on the demo's model, so text fields run through the glove-wordnet source. */
  text: "glove-6b-100d/hostile/64",
  /** An attribution graph whose layer-0 feature node 0_3_1 is feature 3 of the dash SAE. */
  graph: "hostile-graph",
};

async function seedTextSae(app: App): Promise<void> {
  const n = 64, d = 100;
  const unit = (seed: number) => {
    const v = Array.from({ length: d }, (_, j) => Math.sin(seed * 7.1 + j * 1.3));
    const norm = Math.hypot(...v);
    return v.map((x) => x / norm);
  };
  await app.services.ingest.ingestSae(
    {
      model: { id: "glove-6b-100d" },
      family: null,
      sae: { id: SEEDED.text, architecture: "topk", k: 4, dIn: d, dSae: n, hookName: "word_vectors", applyBDecToInput: true, bDec: new Array(d).fill(0) },
      source: { format: "native", path: `synthetic:${SEEDED.text}` },
      contentHash: `synthetic:${SEEDED.text}`,
    },
    async (sink) => sink.features(Array.from({ length: n }, (_, i) => ({ index: i, decoder: unit(i), encoder: unit(i), bEnc: 0 }))),
  );
}

export async function seedHostileData(app: App): Promise<void> {
  await ingestSaeLike(app, { modelId: SEEDED.model, saeId: SEEDED.small, familyId: SEEDED.family, n: 32, d: D_IN, seed: 1 });
  await ingestSaeLike(app, { modelId: SEEDED.model, saeId: SEEDED.large, familyId: SEEDED.family, n: 128, d: D_IN, seed: 2 });
  await seedFeatures(app, { n: 25, saeId: SEEDED.dash, modelId: SEEDED.model, dIn: D_IN });
  await seedFeatures(app, { n: 3, saeId: SEEDED.victim, modelId: SEEDED.model, dIn: D_IN, examples: 0 });
  await seedTextSae(app);
  await app.services.graph.ingest(JSON.stringify(smallGraph({ slug: SEEDED.graph, schema: 1, scan: SEEDED.model })), {
    file: "hostile-graph.json",
    mapping: { byLayer: new Map([["0", SEEDED.dash]]) },
  });
  const p = app.db.prisma;
  for (let i = 0; i < 5; i++) {
    const e = await p.explanation.create({
      data: { saeId: SEEDED.dash, featureIndex: i, text: `brigade and regiment ${i}`, method: "imported", jobId: SEEDED.job },
    });
    await p.explanationScore.create({ data: { saeId: e.saeId, explanationId: e.id, kind: "detection", metric: "balanced_accuracy", value: 0.5 + i / 10 } });
  }
  await p.job.create({
    data: { id: SEEDED.job, kind: "explain", status: "SUCCEEDED", saeId: SEEDED.dash, total: 5, done: 4, failed: 1, params: { model: "gpt-4o-mini" } },
  });
  for (let i = 0; i < 5; i++)
    await p.jobItem.create({
      data: { jobId: SEEDED.job, featureIndex: i, status: i === 4 ? "FAILED" : "DONE", attempts: 1, error: i === 4 ? "unparseable" : null },
    });
}

/** Values that pass coercion and name seeded data, by argument name (and coordinate where names clash). */
export function validValues(phase: "read-only" | "writes"): (coordinate: string, arg: GraphQLArgument) => HostileValue[] {
  const saes = [SEEDED.small, SEEDED.large, SEEDED.dash];
  return (coordinate, arg) => {
    if (coordinate === "Mutation.deleteSae.id") return phase === "writes" ? [SEEDED.victim] : [SEEDED.dash];
    if (coordinate === "Query.sae.id") return saes;
    // Text fields run on the SAE with a source (and on the others, which have none).
    if (coordinate === "Query.activateText.saeId" || coordinate === "Query.feature.saeId") return [...saes, SEEDED.text];
    if (coordinate === "Query.searchByText.saeIds") return [[SEEDED.text], [SEEDED.text, SEEDED.small]];
    if (coordinate.endsWith("Job.id") || coordinate === "Query.job.id" || coordinate === "Mutation.cancelJob.id") return [SEEDED.job];
    switch (arg.name) {
      case "saeId":
        return saes;
      case "saeIds":
        return [[SEEDED.small], [SEEDED.small, SEEDED.large]];
      case "familyId":
        return [SEEDED.family];
      case "modelId":
        return [SEEDED.model];
      case "index":
        return [0, 1, 3];
      case "indices":
        return [[0, 1]];
      case "vector":
        return [Array.from({ length: D_IN }, (_, i) => Math.round(Math.sin(i + 1) * 100) / 100)];
      case "query":
        return ["brigade", "regiment"];
      case "text":
        return ["the brigade marched at dawn", "cat"];
      case "k":
      case "first":
        return [3];
      case "depth":
        return [1, 2];
      case "slug":
        return [SEEDED.graph];
      case "to":
      case "target":
        return ["3_99_2", "1_7_2"];
      case "from":
        return ["E_10_0", "0_3_1"];
      case "maxLength":
        return [3];
      case "nodeThreshold":
        return [0.3];
      case "minEdgeWeight":
        return [1];
      default:
        return [];
    }
  };
}

/** Row count and md5 of the ordered rows of every table: equal fingerprints, equal data. */
export async function fingerprint(db: Database): Promise<Record<string, string>> {
  const tables = await rawQuery<{ t: string }>(db, "SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1");
  const out: Record<string, string> = {};
  for (const { t } of tables) {
    if (!/^[a-z_][a-z0-9_]*$/.test(t)) throw new Error(`unexpected table name ${t}`);
    const [r] = await rawQuery<{ n: string | number; h: string | null }>(
      db,
      `SELECT count(*) AS n, md5(coalesce(string_agg(x::text, E'\\n' ORDER BY x::text), '')) AS h FROM "${t}" x`,
    );
    out[t] = `${Number(r!.n)} rows, md5 ${r!.h}`;
  }
  return out;
}
