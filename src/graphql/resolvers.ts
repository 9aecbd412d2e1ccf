// Merges the resolver maps of every module.
import type { Resolvers } from "./generated/resolvers-types.ts";
import { featureResolvers } from "../modules/feature/feature.resolvers.ts";
import { saeResolvers } from "../modules/sae/sae.resolvers.ts";
import { searchResolvers } from "../modules/search/search.resolvers.ts";
import { statsResolvers } from "../modules/stats/stats.resolvers.ts";
import { lineageResolvers } from "../modules/geometry/lineage.resolvers.ts";
import { nearestResolvers } from "../modules/geometry/nearest.resolvers.ts";
import { encodeResolvers } from "../modules/encode/encode.resolvers.ts";
import { explanationResolvers } from "../modules/explanation/explanation.resolvers.ts";
import { jobResolvers } from "../modules/job/job.resolvers.ts";
import { ingestResolvers } from "../ingest/ingest.resolvers.ts";

function merge(...maps: Resolvers[]): Resolvers {
  const out: Record<string, Record<string, unknown>> = {};
  for (const m of maps) {
    for (const [type, fields] of Object.entries(m)) {
      out[type] = { ...(out[type] ?? {}), ...(fields as Record<string, unknown>) };
    }
  }
  return out as Resolvers;
}

export const resolvers: Resolvers = merge(saeResolvers, featureResolvers, searchResolvers, statsResolvers, nearestResolvers, encodeResolvers, explanationResolvers, jobResolvers, lineageResolvers, ingestResolvers);
