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
  type ValueNode,
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

/** Whether a selection's plan may depend on the request's variables (directives, variable arguments): then it is not cached. */
interface Walk {
  dynamic: boolean;
}

const hasVariable = (v: ValueNode): boolean =>
  v.kind === Kind.VARIABLE || (v.kind === Kind.LIST && v.values.some(hasVariable)) || (v.kind === Kind.OBJECT && v.fields.some((f) => hasVariable(f.value)));

/** The fields selected on typeName by these selection sets, through fragments. */
function fieldsOn(sets: readonly (SelectionSetNode | undefined)[], typeName: string, info: GraphQLResolveInfo, walk: Walk, out: FieldNode[] = []): FieldNode[] {
  for (const set of sets) {
    for (const sel of set?.selections ?? []) {
      if (sel.directives?.length) walk.dynamic = true;
      if (!included(sel, info.variableValues)) continue;
      if (sel.kind === Kind.FIELD) out.push(sel);
      else if (sel.kind === Kind.INLINE_FRAGMENT) {
        if (!sel.typeCondition || sel.typeCondition.name.value === typeName) fieldsOn([sel.selectionSet], typeName, info, walk, out);
      } else {
        const frag = info.fragments[sel.name.value];
        if (frag && frag.typeCondition.name.value === typeName) fieldsOn([frag.selectionSet], typeName, info, walk, out);
      }
    }
  }
  return out;
}

/** What a Feature selection reads beside the row, or null when it reads nothing the page statement holds. */
function planOf(fields: readonly FieldNode[], ctx: GraphQLContext, info: GraphQLResolveInfo, walk: Walk): PagePlan | null {
  const type = info.schema.getType("Feature");
  if (!isObjectType(type)) return null;
  const defs = type.getFields();
  const want: PageRequest = { explanations: false, activations: [], neighbourList: false };
  const neighbours: PagePlan["neighbours"] = [];
  for (const f of fields) {
    const name = f.name.value;
    if (name === "explanations" || name === "label") want.explanations = true;
    else if (name === "topActivations" || name === "neighbors") {
      if (f.arguments?.some((a) => hasVariable(a.value))) walk.dynamic = true;
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

// Plans by root field node, for selections that do not depend on variables: a document served
// again (the lean path and Apollo keep parsed documents) is planned once. Per feature service,
// whose limits decide what a plan holds.
const plans = new WeakMap<object, WeakMap<FieldNode, PagePlan | null>>();

/** The plan of the root field's selection; find walks the selection to the Feature fields. */
function cachedPlan(ctx: GraphQLContext, info: GraphQLResolveInfo, find: (walk: Walk) => FieldNode[]): PagePlan | null {
  const node = info.fieldNodes.length === 1 ? info.fieldNodes[0]! : null;
  let byNode = plans.get(ctx.services.feature);
  const known = node ? byNode?.get(node) : undefined;
  if (known !== undefined) return known;
  const walk: Walk = { dynamic: false };
  const plan = planOf(find(walk), ctx, info, walk);
  if (node && !walk.dynamic) {
    if (!byNode) plans.set(ctx.services.feature, (byNode = new WeakMap()));
    byNode.set(node, plan);
  }
  return plan;
}

/** Query.feature with its page read in one statement. */
export function withFeaturePage(resolve: Resolver<{ saeId: string; index: number }>): Resolver<{ saeId: string; index: number }> {
  return async (parent, args, ctx, info) => {
    if (args.index >= 0) {
      const plan = cachedPlan(ctx, info, (walk) => fieldsOn(info.fieldNodes.map((n) => n.selectionSet), "Feature", info, walk));
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
    const plan = cachedPlan(ctx, info, (walk) => {
      const edges = fieldsOn(info.fieldNodes.map((n) => n.selectionSet), "FeatureConnection", info, walk).filter((f) => f.name.value === "edges");
      const nodes = fieldsOn(edges.map((e) => e.selectionSet), "FeatureEdge", info, walk).filter((f) => f.name.value === "node");
      return fieldsOn(nodes.map((n) => n.selectionSet), "Feature", info, walk);
    });
    if (plan && connection.edges.length > 0) await loadPages(ctx, connection.edges.map((e) => e.node), plan);
    return connection;
  };
}
