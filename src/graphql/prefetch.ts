// The feature page in one statement. Query.feature (and each node of Query.features) looks ahead
// at its selection (fragments, aliases, @skip/@include and arguments included) and reads the row
// with the labels, activation examples and stored neighbour list the selection names in one
// statement (FeatureService.pagesByKeys), then primes the loaders the child fields read, so they
// find their data without SQL. The children still call their loaders themselves: an answer never
// depends on this. A selection it does not recognise, arguments a field rejects, or neighbours the
// stored list cannot answer (other SAEs, k above the stored length, lists not built yet) are left
// to the field's own loader, which reads or reports them as before.
import {
  type FieldNode,
  getArgumentValues,
  getDirectiveValues,
  GraphQLIncludeDirective,
  type GraphQLResolveInfo,
  GraphQLSkipDirective,
  isObjectType,
  Kind,
  type SelectionNode,
  type SelectionSetNode,
} from "graphql";
import type { GraphQLContext } from "./context.ts";
import type { FeatureKey } from "../shared/feature-key.ts";
import type { FeaturePageData, PageRequest } from "../modules/feature/feature.service.ts";

type Resolver<A> = (parent: unknown, args: A, ctx: GraphQLContext, info: GraphQLResolveInfo) => unknown;

interface PagePlan {
  request: PageRequest;
  neighbours: { k: number; saeIds: readonly string[] | null }[];
}

function included(node: SelectionNode, vars: GraphQLResolveInfo["variableValues"]): boolean {
  if (!node.directives?.length) return true;
  if (getDirectiveValues(GraphQLSkipDirective, node, vars)?.if === true) return false;
  return getDirectiveValues(GraphQLIncludeDirective, node, vars)?.if !== false;
}

/** The fields selected on typeName by these selection sets, through fragments. */
function fieldsOn(sets: readonly (SelectionSetNode | undefined)[], typeName: string, info: GraphQLResolveInfo, out: FieldNode[] = []): FieldNode[] {
  for (const set of sets) {
    for (const sel of set?.selections ?? []) {
      if (!included(sel, info.variableValues)) continue;
      if (sel.kind === Kind.FIELD) out.push(sel);
      else if (sel.kind === Kind.INLINE_FRAGMENT) {
        if (!sel.typeCondition || sel.typeCondition.name.value === typeName) fieldsOn([sel.selectionSet], typeName, info, out);
      } else {
        const frag = info.fragments[sel.name.value];
        if (frag && frag.typeCondition.name.value === typeName) fieldsOn([frag.selectionSet], typeName, info, out);
      }
    }
  }
  return out;
}

/** What a Feature selection reads beside the row, or null when it reads nothing the page statement holds. */
function planOf(fields: readonly FieldNode[], ctx: GraphQLContext, info: GraphQLResolveInfo): PagePlan | null {
  const type = info.schema.getType("Feature");
  if (!isObjectType(type)) return null;
  const defs = type.getFields();
  const want: PageRequest = { explanations: false, activations: [], neighbourList: false };
  const neighbours: PagePlan["neighbours"] = [];
  for (const f of fields) {
    const name = f.name.value;
    if (name === "explanations" || name === "label") want.explanations = true;
    else if (name === "topActivations" || name === "neighbors") {
      let args: Record<string, any>;
      try {
        args = getArgumentValues(defs[name]!, f, info.variableValues);
      } catch {
        continue; // the field reports its own argument error
      }
      // The defaults mirror the children's resolvers (feature.resolvers.ts, nearest.resolvers.ts).
      if (name === "topActivations") want.activations.push({ first: args.first ?? 20, kinds: args.kinds ?? ["TOP", "QUANTILE"] });
      else neighbours.push({ k: args.k ?? 10, saeIds: args.saeIds ?? null });
    }
  }
  want.neighbourList = neighbours.length > 0;
  const request = ctx.services.feature.pageRequest(want);
  if (!request.explanations && request.activations.length === 0 && !request.neighbourList) return null;
  return { request, neighbours };
}

/** Fills the loaders the page's child fields read from one page row (null: the feature is not there). */
function prime(ctx: GraphQLContext, key: FeatureKey, plan: PagePlan, page: FeaturePageData | null): void {
  ctx.loaders.feature.feature.prime(key, page?.row ?? null);
  if (!page) return;
  if (page.explanations) {
    ctx.loaders.explanation.all.prime(key, page.explanations);
    // The label is the best explanation: the first of the list, in the same order (explanation.repository.ts).
    ctx.loaders.explanation.best.prime(key, page.explanations[0] ?? null);
  }
  plan.request.activations.forEach((a, i) => ctx.loaders.feature.activations(a.first, a.kinds).prime(key, page.activations[i]!));
  for (const n of plan.neighbours) {
    const list = ctx.services.geometry.nearest.storedNeighbours(key, page, { k: n.k, saeIds: n.saeIds });
    if (list) ctx.loaders.geometry.neighbors.prime({ ...key, k: n.k, saeIds: n.saeIds }, list);
  }
}

async function loadPages(ctx: GraphQLContext, keys: readonly FeatureKey[], plan: PagePlan): Promise<void> {
  const loader = ctx.loaders.feature.pages(plan.request);
  const pages = await loader.loadMany(keys);
  keys.forEach((key, i) => {
    const p = pages[i];
    if (!(p instanceof Error)) prime(ctx, key, plan, p ?? null);
  });
}

/** Query.feature with its page read in one statement. */
export function withFeaturePage(resolve: Resolver<{ saeId: string; index: number }>): Resolver<{ saeId: string; index: number }> {
  return async (parent, args, ctx, info) => {
    if (args.index >= 0) {
      const plan = planOf(fieldsOn(info.fieldNodes.map((n) => n.selectionSet), "Feature", info), ctx, info);
      if (plan) await loadPages(ctx, [{ saeId: args.saeId, index: args.index }], plan);
    }
    return resolve(parent, args, ctx, info);
  };
}

interface Connection {
  edges: { node: FeatureKey }[];
}

/** Query.features with its nodes' labels, examples and stored neighbour lists read in one statement after the page. */
export function withFeaturesPage<A>(resolve: Resolver<A>): Resolver<A> {
  return async (parent, args, ctx, info) => {
    const connection = (await resolve(parent, args, ctx, info)) as Connection;
    const edges = fieldsOn(info.fieldNodes.map((n) => n.selectionSet), "FeatureConnection", info).filter((f) => f.name.value === "edges");
    const nodes = fieldsOn(edges.map((e) => e.selectionSet), "FeatureEdge", info).filter((f) => f.name.value === "node");
    const plan = planOf(fieldsOn(nodes.map((n) => n.selectionSet), "Feature", info), ctx, info);
    if (plan && connection.edges.length > 0) await loadPages(ctx, connection.edges.map((e) => e.node), plan);
    return connection;
  };
}
