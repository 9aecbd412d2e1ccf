// GraphQL resolver for Query.encodeVector.
import type { Resolvers } from "../../graphql/generated/resolvers-types.ts";
import { assertK } from "../../graphql/limits.ts";

export const encodeResolvers: Resolvers = {
  Query: {
    encodeVector: async (_p, args, ctx) => {
      const k = assertK(ctx, args.k ?? 20);
      const hits = await ctx.services.encode.encode(args.saeId, args.vector, k);
      return hits.map((h) => ({ feature: { saeId: h.saeId, index: h.index }, activation: h.activation }));
    },
  },
};
