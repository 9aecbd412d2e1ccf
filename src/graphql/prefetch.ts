// The feature page in one round trip. Query.feature's children (labels, top activations, the
// stored neighbour list) each batch into one statement, but graphql-js starts them only once
// the feature row is back: two round trips per page. Here the resolver asks the children's
// loaders for what its selection names in the same tick as the row, so all four statements go
// out together. The children still call their loaders themselves (same keys: a cache hit), so
// an answer never depends on this: a selection it does not recognise only costs a round trip,
// and a prefetch that fails (a feature that does not exist) is never seen.
import { getArgumentValues, type GraphQLResolveInfo, isObjectType, Kind } from "graphql";
import type { GraphQLContext } from "./context.ts";
import type { FeatureKey } from "../shared/feature-key.ts";

type Resolver = (parent: unknown, args: { saeId: string; index: number }, ctx: GraphQLContext, info: GraphQLResolveInfo) => unknown;

const quiet = (p: Promise<unknown>) => void p.catch(() => {});

function prefetch(key: FeatureKey, ctx: GraphQLContext, info: GraphQLResolveInfo) {
  // A neighbour batch fails as a whole when one of its features does not exist: prefetched for
  // two root features, a missing one would fail the other's list. Only a lone root field prefetches it.
  const root = info.operation.selectionSet.selections;
  const alone = root.length === 1 && info.fieldNodes.length === 1 && root[0] === info.fieldNodes[0];
  const type = info.schema.getType("Feature");
  if (!isObjectType(type)) return;
  const defs = type.getFields();
  for (const node of info.fieldNodes) {
    for (const sel of node.selectionSet?.selections ?? []) {
      if (sel.kind !== Kind.FIELD || sel.directives?.length) continue;
      const def = defs[sel.name.value];
      if (!def) continue;
      let args: Record<string, any>;
      try {
        args = getArgumentValues(def, sel, info.variableValues);
      } catch {
        continue; // the field reports its own argument error
      }
      // The defaults below mirror the children's resolvers; a mismatch costs a statement, not an answer.
      if (def.name === "explanations") quiet(ctx.loaders.explanation.all.load(key));
      else if (def.name === "topActivations") quiet(ctx.loaders.feature.activations(args.first ?? 20, args.kinds ?? ["TOP", "QUANTILE"]).load(key));
      else if (def.name === "neighbors" && alone) quiet(ctx.loaders.geometry.neighbors.load({ ...key, k: args.k ?? 10, saeIds: args.saeIds ?? null }));
    }
  }
}

/** Query.feature with its page's children fetched alongside the row. */
export function withFeaturePagePrefetch(resolve: Resolver): Resolver {
  return (parent, args, ctx, info) => {
    const result = resolve(parent, args, ctx, info);
    if (args.index >= 0) prefetch({ saeId: args.saeId, index: args.index }, ctx, info);
    return result;
  };
}
