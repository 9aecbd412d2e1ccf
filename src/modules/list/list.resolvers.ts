// GraphQL resolvers for feature lists: Query.lists / list, the list mutations,
// FeatureList, FeatureListItem and Feature.lists. The API-key check for mutations happens
// before any resolver runs (src/graphql/auth.ts); reads go through per-request loaders.
import type { Resolvers } from "../../graphql/generated/resolvers-types.ts";
import { assertPageSize } from "../../graphql/limits.ts";
import { assertItemsFirst, LIST_CAPACITY } from "./list.service.ts";

export const listResolvers: Resolvers = {
  Query: {
    lists: (_p, args, ctx) => ctx.services.lists.all(assertPageSize(ctx, args.first ?? 100)),
    list: (_p, args, ctx) => ctx.loaders.list.list.load(args.id),
  },
  Mutation: {
    createList: (_p, args, ctx) => ctx.services.lists.create(args.name, args.description),
    addToList: (_p, args, ctx) => ctx.services.lists.add(args.listId, { saeId: args.saeId, index: args.index }, args.note),
    removeFromList: (_p, args, ctx) => ctx.services.lists.remove(args.listId, { saeId: args.saeId, index: args.index }),
    deleteList: (_p, args, ctx) => ctx.services.lists.delete(args.id),
  },
  FeatureList: {
    id: (l) => l.id,
    name: (l) => l.name,
    description: (l) => l.description,
    itemCount: (l) => l.itemCount,
    createdAt: (l) => l.createdAt.toISOString(),
    updatedAt: (l) => l.updatedAt.toISOString(),
    items: (l, args, ctx) => ctx.loaders.list.items(assertItemsFirst(args.first ?? LIST_CAPACITY)).load(l.id),
  },
  FeatureListItem: {
    feature: (i) => ({ saeId: i.saeId, index: i.featureIndex }),
    note: (i) => i.note,
    addedAt: (i) => i.addedAt.toISOString(),
  },
  Feature: {
    lists: (f, args, ctx) => ctx.loaders.list.ofFeature(assertPageSize(ctx, args.first ?? 20)).load({ saeId: f.saeId, index: f.index }),
  },
};
