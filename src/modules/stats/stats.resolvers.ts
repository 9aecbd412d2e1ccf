// GraphQL resolvers for SaeStats and the family scaling view; all reads go through
// the per-request stats loaders (one statement per statistic for all SAEs asked about).
import { invariant } from "../../errors.ts";
import type { Resolvers } from "../../graphql/generated/resolvers-types.ts";
import { assertBins, assertThreshold } from "./stats.service.ts";

export const statsResolvers: Resolvers = {
  SaeStats: {
    deadFraction: async (s, _a, ctx) => (await ctx.loaders.stats.base.load(s.saeId)).deadFraction,
    medianDensity: async (s, _a, ctx) => (await ctx.loaders.stats.base.load(s.saeId)).medianDensity,
    neuronAlignedFraction: (s, args, ctx) =>
      ctx.loaders.stats.neuronAligned(assertThreshold(args.threshold ?? 0.3)).load(s.saeId),
    neuronCorrelatedFraction: (s, args, ctx) =>
      ctx.loaders.stats.neuronCorrelated(assertThreshold(args.threshold ?? 0.3)).load(s.saeId),
    densityHistogram: (s, args, ctx) => ctx.loaders.stats.densityHistogram(assertBins(args.bins ?? 50)).load(s.saeId),
  },
  SaeFamily: {
    scaling: (f, _a, ctx) => ctx.loaders.stats.scaling.load(f.id),
  },
  FamilyScalingRow: {
    sae: async (r, _a, ctx) => {
      const s = await ctx.loaders.sae.sae.load(r.saeId);
      invariant(s, `scaling row for SAE ${r.saeId} has no visible SAE`);
      return s;
    },
  },
};
