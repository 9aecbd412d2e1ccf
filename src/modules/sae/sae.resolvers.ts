// GraphQL resolvers for models, families and SAEs.
import type { Resolvers } from "../../graphql/generated/resolvers-types.ts";
import { invariant } from "../../errors.ts";

export const saeResolvers: Resolvers = {
  Query: {
    models: (_p, _a, ctx) => ctx.services.sae.models(),
    families: (_p, _a, ctx) => ctx.services.sae.families(),
    saes: (_p, args, ctx) => ctx.services.sae.saes({ familyId: args.familyId, modelId: args.modelId }),
    // The loader also finds an SAE being deleted (for parents this request holds); a request that
    // did not read it before the delete does not see it.
    sae: async (_p, args, ctx) => {
      const s = await ctx.loaders.sae.sae.load(args.id);
      return s?.status === "ready" ? s : null;
    },
  },
  Model: {
    saes: (m, _a, ctx) => ctx.services.sae.saes({ modelId: m.id }),
  },
  SaeFamily: {
    model: async (f, _a, ctx) => {
      const m = await ctx.loaders.sae.model.load(f.modelId);
      invariant(m, `family ${f.id} has no model`);
      return m;
    },
    saes: (f, _a, ctx) => ctx.services.sae.saes({ familyId: f.id }),
  },
  Sae: {
    model: async (s, _a, ctx) => {
      const m = await ctx.loaders.sae.model.load(s.modelId);
      invariant(m, `SAE ${s.id} has no model`);
      return m;
    },
    family: (s, _a, ctx) => (s.familyId ? ctx.loaders.sae.family.load(s.familyId) : null),
    // The contract makes architecture non-null; an import that never stated it (a SAEDashboard
    // batch) stores null, shown as "unknown" rather than a guessed "standard".
    architecture: (s) => s.architecture ?? "unknown",
    featureCount: (s, _a, ctx) => ctx.loaders.sae.featureCount.load(s.id),
    stats: (s) => ({ saeId: s.id }),
  },
};
