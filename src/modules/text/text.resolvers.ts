// GraphQL resolvers for text through a model: Query.activateText, Query.searchByText,
// Feature.activationsOnText and Feature.sources.
import type { Resolvers } from "../../graphql/generated/resolvers-types.ts";
import { assertPageSize } from "../../graphql/limits.ts";

const featureOf = (saeId: string, index: number) => ({ saeId, index });

export const textResolvers: Resolvers = {
  Query: {
    activateText: async (_p, args, ctx) => {
      const tokens = await ctx.services.text.activateText(args.saeId, args.text, args.k ?? 5);
      return {
        tokens: tokens.map((t) => ({
          token: t.token,
          features: t.features.map((f) => ({ feature: featureOf(f.saeId, f.index), activation: f.activation })),
        })),
      };
    },
    searchByText: async (_p, args, ctx) => {
      const hits = await ctx.services.text.searchByText(args.text, args.saeIds, args.k ?? 20);
      return hits.map((h) => ({ feature: featureOf(h.saeId, h.index), maxActivation: h.maxActivation, tokenIndex: h.tokenIndex }));
    },
  },
  Feature: {
    activationsOnText: (f, args, ctx) => ctx.services.text.activationsOnText(f.saeId, f.index, args.text),
    sources: (f, args, ctx) => ctx.services.text.sources(f.saeId, f.index, assertPageSize(ctx, args.first ?? 50)),
  },
};
