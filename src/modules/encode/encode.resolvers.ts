// GraphQL resolver for Query.encodeVector.
import type { Resolvers } from "../../graphql/generated/resolvers-types.ts";

export const encodeResolvers: Resolvers = {
  Query: {
    encodeVector: async (_p, args, ctx) => {
      const hits = await ctx.services.encode.encode(args.saeId, args.vector, args.k ?? 20);
      return hits.map((h) => ({ feature: { saeId: h.saeId, index: h.index }, activation: h.activation }));
    },
  },
};
