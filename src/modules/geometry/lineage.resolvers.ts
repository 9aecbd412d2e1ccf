// GraphQL resolvers for split lineage: Feature.parents / children / splitKind / originKind and the splitLineage tree,
// all reading the stored graph through per-request loaders (one statement per tree level).
import { featureKey } from "../../shared/feature-key.ts";
import type { GraphQLContext } from "../../graphql/context.ts";
import type { Resolvers } from "../../graphql/generated/resolvers-types.ts";
import type { LineageNodeParent } from "../../graphql/mappers.ts";
import { badInput } from "../../errors.ts";
import type { LineageLink } from "./lineage.service.ts";

const MAX_DEPTH = 8;

const edge = (l: LineageLink) => ({ feature: { saeId: l.saeId, index: l.index }, cosine: l.cosine, coactivation: l.coactivation });

async function kinds(ctx: GraphQLContext, n: LineageNodeParent) {
  const k = await ctx.loaders.geometry.kinds.load({ saeId: n.saeId, index: n.index });
  if (!k) throw badInput(`feature ${featureKey(n)} not found`);
  return k;
}

const keep = (n: LineageNodeParent, links: LineageLink[]) => (n.minCosine === null ? links : links.filter((l) => l.cosine >= n.minCosine!));

export const lineageResolvers: Resolvers = {
  Query: {
    splitLineage: async (_p, a, ctx) => {
      const depth = a.depth ?? 2;
      if (!Number.isInteger(depth) || depth < 0 || depth > MAX_DEPTH) throw badInput(`depth must be between 0 and ${MAX_DEPTH}, got ${depth}`);
      if (a.minCosine != null && !(a.minCosine >= -1 && a.minCosine <= 1)) throw badInput(`minCosine must be between -1 and 1, got ${a.minCosine}`);
      const k = await ctx.loaders.geometry.kinds.load({ saeId: a.saeId, index: a.index });
      if (!k) return null;
      const direction = a.direction ?? "BOTH";
      return {
        saeId: a.saeId,
        index: a.index,
        cosine: null,
        coactivation: null,
        up: direction === "DOWN" ? 0 : depth,
        down: direction === "UP" ? 0 : depth,
        minCosine: a.minCosine ?? null,
      };
    },
  },
  LineageNode: {
    feature: (n) => ({ saeId: n.saeId, index: n.index }),
    cosine: (n) => n.cosine,
    coactivation: (n) => n.coactivation,
    split: async (n, _a, ctx) => (await kinds(ctx, n)).split,
    origin: async (n, _a, ctx) => (await kinds(ctx, n)).origin,
    parents: async (n, _a, ctx) => {
      if (n.up <= 0) return [];
      const links = keep(n, await ctx.loaders.geometry.parents.load({ saeId: n.saeId, index: n.index }));
      return links.map((l) => ({ saeId: l.saeId, index: l.index, cosine: l.cosine, coactivation: l.coactivation, up: n.up - 1, down: 0, minCosine: n.minCosine }));
    },
    children: async (n, _a, ctx) => {
      if (n.down <= 0) return [];
      const links = keep(n, await ctx.loaders.geometry.children.load({ saeId: n.saeId, index: n.index }));
      return links.map((l) => ({ saeId: l.saeId, index: l.index, cosine: l.cosine, coactivation: l.coactivation, up: 0, down: n.down - 1, minCosine: n.minCosine }));
    },
  },
  Feature: {
    splitKind: async (f, _a, ctx) => (await ctx.loaders.geometry.storedKinds.load({ saeId: f.saeId, index: f.index }))?.split ?? null,
    originKind: async (f, _a, ctx) => (await ctx.loaders.geometry.storedKinds.load({ saeId: f.saeId, index: f.index }))?.origin ?? null,
    parents: async (f, _a, ctx) => (await ctx.loaders.geometry.parents.load({ saeId: f.saeId, index: f.index })).map(edge),
    children: async (f, _a, ctx) => (await ctx.loaders.geometry.children.load({ saeId: f.saeId, index: f.index })).map(edge),
  },
};
