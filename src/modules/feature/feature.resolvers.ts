// GraphQL resolvers for reading features. Every field goes through the per-request
// loaders, so a page of N features costs one statement per kind of data asked for.
import { featureKey } from "../../shared/feature-key.ts";
import type { GraphQLContext } from "../../graphql/context.ts";
import type { Resolvers } from "../../graphql/generated/resolvers-types.ts";
import type { FeatureParent } from "../../graphql/mappers.ts";
import { invariant, notFound } from "../../errors.ts";
import { imageUrl } from "../image/image.service.ts";
import type { FeatureRow } from "./feature.service.ts";

async function row(ctx: GraphQLContext, f: FeatureParent): Promise<FeatureRow> {
  const r = await ctx.loaders.feature.feature.load(f);
  if (!r) throw notFound(`feature ${featureKey(f)} not found`);
  return r;
}

export const featureResolvers: Resolvers = {
  Query: {
    feature: async (_p, { saeId, index }, ctx) => {
      if (index < 0) return null;
      const r = await ctx.loaders.feature.feature.load({ saeId, index });
      // A feature of an SAE being deleted is visible only to a request that read it before the delete (cached row).
      return r && !r.saeDeleting ? { saeId: r.saeId, index: r.index } : null;
    },
    features: async (_p, args, ctx) => {
      const first = args.first ?? 50;
      const filter = args.filter ?? {};
      const page = await ctx.services.feature.page({ saeId: args.saeId, first, after: args.after, orderBy: args.orderBy ?? "INDEX", filter });
      for (const e of page.edges) ctx.loaders.feature.feature.prime(e.row, e.row);
      return {
        edges: page.edges.map((e) => ({ cursor: e.cursor, node: { saeId: e.row.saeId, index: e.row.index } })),
        pageInfo: { hasNextPage: page.hasNextPage, endCursor: page.endCursor },
        saeId: args.saeId,
        filter,
      };
    },
  },
  FeatureConnection: {
    totalCount: (c, _a, ctx) => ctx.services.feature.count(c.saeId, c.filter),
  },
  Feature: {
    id: (f) => featureKey(f),
    index: (f) => f.index,
    sae: async (f, _a, ctx) => {
      // The SAE of a feature this request holds: found while it is being deleted too (its rows stay for the grace).
      const s = await ctx.loaders.sae.sae.load(f.saeId);
      invariant(s, `feature ${featureKey(f)} has no visible SAE`);
      return s;
    },
    density: async (f, _a, ctx) => (await row(ctx, f)).density,
    maxActivation: async (f, _a, ctx) => (await row(ctx, f)).maxActivation,
    decoderNorm: async (f, _a, ctx) => (await row(ctx, f)).decoderNorm,
    neuronAlignment: async (f, _a, ctx) => {
      const r = await row(ctx, f);
      return r.neuronIndex === null || r.neuronCosine === null ? null : { neuron: r.neuronIndex, cosine: r.neuronCosine };
    },
    umap: async (f, _a, ctx) => {
      const r = await row(ctx, f);
      return r.umapX === null || r.umapY === null ? null : { x: r.umapX, y: r.umapY };
    },
    decoder: async (f, _a, ctx) => {
      const d = await ctx.loaders.feature.decoder.load(f);
      return d ? Array.from(d) : null;
    },
    logits: async (f, _a, ctx) => (await ctx.loaders.feature.dashboard.load(f))?.logits ?? null,
    histograms: async (f, _a, ctx) => (await ctx.loaders.feature.dashboard.load(f))?.histograms ?? null,
    topActivations: async (f, args, ctx) => {
      const first = args.first ?? 20;
      const kinds = args.kinds ?? ["TOP", "QUANTILE"];
      const rows = await ctx.loaders.feature.activations(first, kinds).load(f);
      return rows.map((a) => ({
        tokens: a.tokens ?? [],
        values: a.values ?? [],
        maxValue: a.maxValue,
        maxTokenIndex: a.maxTokenIndex,
        kind: a.kind === "quantile" ? "QUANTILE" : "TOP",
        binMin: a.binMin,
        binMax: a.binMax,
        text: a.text,
        image:
          a.patchRows !== null && a.patchCols !== null && a.imageWidth !== null && a.imageHeight !== null
            ? { url: a.imageSha256 ? imageUrl(a.imageSha256) : (a.imageUrl ?? ""), width: a.imageWidth, height: a.imageHeight, patchRows: a.patchRows, patchCols: a.patchCols }
            : null,
      }));
    },
  },
};
