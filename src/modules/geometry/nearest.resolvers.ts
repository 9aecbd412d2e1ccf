// GraphQL resolvers for nearest features. Arguments (k, SAE sets, vector length, minCosine) are
// validated in NearestService.
import type { Resolvers } from "../../graphql/generated/resolvers-types.ts";
import type { Neighbour } from "./nearest.service.ts";

const toGraph = (list: Neighbour[]) => list.map((n) => ({ feature: { saeId: n.saeId, index: n.index }, cosine: n.cosine }));

export const nearestResolvers: Resolvers = {
  Query: {
    nearestFeatures: async (_p, a, ctx) => {
      const k = a.k ?? 10;
      const list = await ctx.services.geometry.nearest.nearestFeatures(
        { saeId: a.saeId, index: a.index },
        { k, saeIds: a.saeIds ?? null, minCosine: a.minCosine ?? null, exact: a.exact ?? false },
      );
      return toGraph(list);
    },
    nearestToVector: async (_p, a, ctx) => {
      const k = a.k ?? 10;
      const list = await ctx.services.geometry.nearest.nearestToVector(a.vector, {
        k,
        saeIds: a.saeIds,
        minCosine: a.minCosine ?? null,
        exact: a.exact ?? false,
      });
      return toGraph(list);
    },
  },
  Feature: {
    neighbors: async (f, a, ctx) => {
      const k = a.k ?? 10;
      return toGraph(await ctx.loaders.geometry.neighbors.load({ saeId: f.saeId, index: f.index, k, saeIds: a.saeIds ?? null }));
    },
  },
};
