// Merges the resolver maps of every module.
import type { Resolvers } from "./generated/resolvers-types.ts";
import { autointerpResolvers } from "../modules/autointerp/index.ts";
import { encodeResolvers } from "../modules/encode/index.ts";
import { explanationResolvers } from "../modules/explanation/index.ts";
import { featureResolvers } from "../modules/feature/index.ts";
import { lineageResolvers, nearestResolvers } from "../modules/geometry/index.ts";
import { graphResolvers } from "../modules/graph/index.ts";
import { listResolvers } from "../modules/list/index.ts";
import { jobResolvers } from "../modules/job/index.ts";
import { saeResolvers } from "../modules/sae/index.ts";
import { searchResolvers } from "../modules/search/index.ts";
import { statsResolvers } from "../modules/stats/index.ts";
import { textResolvers } from "../modules/text/index.ts";
import { ingestResolvers } from "../ingest/ingest.resolvers.ts";
import { withFeaturePage, withFeaturesPage } from "./prefetch.ts";

function merge(...maps: Resolvers[]): Resolvers {
  const out: Record<string, Record<string, unknown>> = {};
  for (const m of maps) {
    for (const [type, fields] of Object.entries(m)) {
      out[type] = { ...(out[type] ?? {}), ...(fields as Record<string, unknown>) };
    }
  }
  return out as Resolvers;
}

export const resolvers: Resolvers = merge(
  saeResolvers,
  featureResolvers,
  searchResolvers,
  statsResolvers,
  nearestResolvers,
  encodeResolvers,
  explanationResolvers,
  jobResolvers,
  autointerpResolvers,
  lineageResolvers,
  ingestResolvers,
  listResolvers,
  textResolvers,
  graphResolvers,
  // Query.feature and Query.features read their pages' labels, examples and neighbour lists with the rows (prefetch.ts).
  { Query: { feature: withFeaturePage(featureResolvers.Query!.feature as never) as never, features: withFeaturesPage(featureResolvers.Query!.features as never) as never } },
);
