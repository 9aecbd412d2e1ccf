// GraphQL resolver for concept search.
import type { Resolvers } from "../../graphql/generated/resolvers-types.ts";

export const searchResolvers: Resolvers = {
  Query: {
    searchConcepts: async (_p, args, ctx) => {
      const hits = await ctx.services.search.search({
        query: args.query,
        k: args.k ?? undefined,
        mode: args.mode ?? undefined,
        saeIds: args.saeIds ?? null,
        familyId: args.familyId ?? null,
        modelId: args.modelId ?? null,
        minScore: args.minScore ?? null,
        labelMethod: args.labelMethod ?? null,
      });
      return hits.map((h) => ({ feature: { saeId: h.saeId, index: h.index }, score: h.score, matchedText: h.matchedText }));
    },
  },
};
