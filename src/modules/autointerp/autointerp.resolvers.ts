// GraphQL mutations that start (and spend money on) auto-interpretation jobs; the jobs run in
// the background and are read through Query.job. The caller is checked first, before anything else.
import { requireCaller } from "../../graphql/context.ts";
import type { Resolvers } from "../../graphql/generated/resolvers-types.ts";
import type { ScoreKind } from "./score.ts";

export const autointerpResolvers: Resolvers = {
  Mutation: {
    explainFeatures: async (_p, args, ctx) => {
      requireCaller(ctx);
      const job = await ctx.services.autointerp.create("explain", args.saeId, {
        indices: args.indices,
        limit: args.limit,
        maxCostUsd: args.maxCost,
        batch: args.batch ?? false,
      });
      ctx.services.autointerp.start(job.id);
      return job;
    },
    scoreExplanations: async (_p, args, ctx) => {
      requireCaller(ctx);
      const kinds = args.kinds?.map((k) => k.toLowerCase() as ScoreKind) ?? null;
      const job = await ctx.services.autointerp.create("score", args.saeId, { indices: args.indices, limit: args.limit, maxCostUsd: args.maxCost, kinds });
      ctx.services.autointerp.start(job.id);
      return job;
    },
    embedExplanations: async (_p, args, ctx) => {
      requireCaller(ctx);
      const job = await ctx.services.autointerp.create("embed", args.saeId, { indices: args.indices, limit: args.limit, maxCostUsd: args.maxCost });
      ctx.services.autointerp.start(job.id);
      return job;
    },
  },
};
