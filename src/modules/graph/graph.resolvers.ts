// GraphQL resolvers for attribution graphs: Query.graphs / graph / graphPaths / graphMediators,
// the graph types, and Feature.graphs. Nodes and links come from the service's cached in-memory
// graph; a graph's node and link lists are charged at their pruned size (the static cost limit
// cannot know it), so an unpruned million-link graph is refused with advice rather than sent.
import type { GraphQLResolveInfo, SelectionSetNode } from "graphql";
import { badInput } from "../../errors.ts";
import type { GraphQLContext } from "../../graphql/context.ts";
import type { Resolvers } from "../../graphql/generated/resolvers-types.ts";
import { assertK, assertPageSize } from "../../graphql/limits.ts";
import type { LoadedGraph } from "./graph.service.ts";

/** Fields selected per item (at least 1), as the cost limit counts them. */
function fieldsPerItem(set: SelectionSetNode | undefined): number {
  if (!set) return 1;
  let n = 0;
  for (const s of set.selections) {
    if (s.kind === "Field") n += 1 + (s.selectionSet ? fieldsPerItem(s.selectionSet) : 0);
    else if (s.kind === "InlineFragment") n += fieldsPerItem(s.selectionSet);
    else n += 1; // a named fragment: counted as one field (the static cost limit has counted it in full)
  }
  return Math.max(1, n);
}

function charge(ctx: GraphQLContext, info: GraphQLResolveInfo, count: number, what: string): void {
  const max = ctx.limits.maxCost;
  if (max === undefined) return;
  const cost = count * fieldsPerItem(info.fieldNodes[0]?.selectionSet);
  if (cost > max) {
    throw badInput(`this graph has ${count} ${what} after pruning (cost ${cost}, limit ${max}): raise nodeThreshold / minEdgeWeight or select fewer fields`, {
      arg: what === "links" ? "minEdgeWeight" : "nodeThreshold",
      cost,
      maxCost: max,
    });
  }
}

const node = (graph: LoadedGraph, pos: number) => ({ graph, pos });

export const graphResolvers: Resolvers = {
  Query: {
    graphs: async (_p, args, ctx) => {
      const rows = await ctx.services.graph.list(args.modelId, assertPageSize(ctx, args.first ?? 50));
      return rows.map((r) => ctx.services.graph.parent(r));
    },
    graph: async (_p, args, ctx) => {
      const r = await ctx.loaders.graph.graph.load(args.slug);
      return r ? ctx.services.graph.parent(r, args.nodeThreshold, args.minEdgeWeight) : null;
    },
    graphPaths: (_p, args, ctx) =>
      ctx.services.graph.paths(args.slug, { to: args.to, from: args.from, k: assertK(ctx, args.k ?? 5), maxLength: args.maxLength ?? 6 }),
    graphMediators: (_p, args, ctx) => ctx.services.graph.mediators(args.slug, { target: args.target, k: assertK(ctx, args.k ?? 10) }),
    compareGraphs: (_p, args, ctx) => ctx.services.graph.compare(args.a, args.b),
  },
  GraphComparison: {
    a: (c, _a, ctx) => ctx.services.graph.parent(c.a.record),
    b: (c, _a, ctx) => ctx.services.graph.parent(c.b.record),
    sharedCount: (c) => c.result("IMPORTANCE").shared.length,
    onlyInACount: (c) => c.result("IMPORTANCE").onlyA.length,
    onlyInBCount: (c) => c.result("IMPORTANCE").onlyB.length,
    shared: (c, args, ctx) => {
      const first = assertPageSize(ctx, args.first ?? 50);
      return c.result(args.orderBy ?? "IMPORTANCE").shared.slice(0, first).map((s) => ({ ...s, ga: c.a, gb: c.b }));
    },
    onlyInA: (c, args, ctx) => c.result("IMPORTANCE").onlyA.slice(0, assertPageSize(ctx, args.first ?? 50)).map((pos) => node(c.a, pos)),
    onlyInB: (c, args, ctx) => c.result("IMPORTANCE").onlyB.slice(0, assertPageSize(ctx, args.first ?? 50)).map((pos) => node(c.b, pos)),
  },
  GraphFeatureComparison: {
    layer: (s) => s.layer,
    featureIndex: (s) => s.featureIndex,
    nodeA: (s) => node(s.ga, s.a.pos),
    nodeB: (s) => node(s.gb, s.b.pos),
    positionsA: (s) => s.a.positions,
    positionsB: (s) => s.b.positions,
    influenceA: (s) => s.a.influence,
    influenceB: (s) => s.b.influence,
    influenceDelta: (s) => s.delta,
  },
  AttributionGraph: {
    slug: (g) => g.record.slug,
    prompt: (g) => g.record.prompt,
    promptTokens: (g, _a, ctx, info) => {
      charge(ctx, info, g.record.promptTokens.length, "prompt tokens");
      return g.record.promptTokens;
    },
    modelId: (g) => g.record.modelId,
    nodeCount: (g) => g.record.nodeCount,
    linkCount: (g) => g.record.linkCount,
    nodes: async (g, _a, ctx, info) => {
      const v = await g.view();
      charge(ctx, info, v.nodes.length, "nodes");
      return v.nodes.map((pos) => node(v.graph, pos));
    },
    links: async (g, _a, ctx, info) => {
      const v = await g.view();
      charge(ctx, info, v.links.length, "links");
      return v.links.map((pos) => ({ graph: v.graph, pos }));
    },
  },
  GraphNode: {
    nodeId: (n) => n.graph.mem.nodes[n.pos]!.nodeId,
    kind: (n) => n.graph.mem.nodes[n.pos]!.kind,
    layer: (n) => n.graph.mem.nodes[n.pos]!.layer,
    ctxIdx: (n) => n.graph.mem.nodes[n.pos]!.ctxIdx,
    activation: (n) => n.graph.mem.nodes[n.pos]!.activation,
    influence: (n) => n.graph.mem.nodes[n.pos]!.influence,
    tokenProb: (n) => n.graph.tokenProb[n.pos] ?? null,
    label: (n) => n.graph.label[n.pos] ?? null,
    // Linked only while the mapped feature is stored (an SAE may be ingested or removed after the graph).
    feature: async (n, _a, ctx) => {
      const key = n.graph.feature[n.pos];
      if (!key) return null;
      const r = await ctx.loaders.feature.feature.load(key);
      return r && !r.saeDeleting ? key : null;
    },
  },
  GraphLink: {
    source: (l) => l.graph.mem.nodes[l.graph.mem.links[l.pos]!.source]!.nodeId,
    target: (l) => l.graph.mem.nodes[l.graph.mem.links[l.pos]!.target]!.nodeId,
    weight: (l) => l.graph.mem.links[l.pos]!.weight,
  },
  GraphPath: {
    nodes: (p) => p.nodes.map((pos) => node(p.graph, pos)),
    weight: (p) => p.weight,
  },
  GraphMediator: {
    node: (m) => node(m.graph, m.node),
    indirectEffect: (m) => m.indirectEffect,
    directFromPrompt: (m) => m.directFromPrompt,
  },
  GraphAppearance: {
    graph: (a) => a.graph,
    node: async (a) => node(await a.graph.loaded(), a.pos),
  },
  Feature: {
    graphs: async (f, args, ctx) => {
      const rows = await ctx.loaders.graph.appearances(assertPageSize(ctx, args.first ?? 20)).load({ saeId: f.saeId, index: f.index });
      const out = [];
      for (const r of rows) {
        const g = await ctx.loaders.graph.graph.load(r.slug);
        if (g) out.push({ graph: ctx.services.graph.parent(g), pos: r.pos });
      }
      return out;
    },
  },
};
