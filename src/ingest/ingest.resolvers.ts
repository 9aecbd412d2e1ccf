// GraphQL: Mutation.deleteSae. The API-key check for mutations happens before any
// resolver runs (src/graphql/auth.ts).
import { isAppError } from "../errors.ts";
import type { Resolvers } from "../graphql/generated/resolvers-types.ts";

export const ingestResolvers: Resolvers = {
  Mutation: {
    deleteSae: async (_p, args, ctx) => {
      try {
        await ctx.services.ingest.removeSae(args.id);
        return true;
      } catch (e) {
        if (isAppError(e) && e.code === "NOT_FOUND") return false;
        throw e;
      }
    },
  },
};
