// Query cost limit, computed once the operation and its variables are known (so a page
// size passed as a variable counts as much as a literal one). Cost estimates the
// number of values the server resolves: every field costs 1, and a field with a
// `first` or `k` argument (literal, variable or schema default) multiplies the cost of
// what it selects by that count. A list-valued field without one is charged at its
// stored size (LIST_SIZES): the longest such list stored now (a decoder's dIn floats, the
// longest activation example, the most explanations of one feature, ...), read from the
// database (modules/sizes) when the operation selects one. A scalar list costs 1 per value.
// tests/unit/list-cost.test.ts fails for a list field that has neither. Depth and alias
// limits are graphql-armor's.
import type { ApolloServerPlugin } from "@apollo/server";
import {
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  GraphQLError,
  type GraphQLNamedType,
  type GraphQLSchema,
  type GraphQLType,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from "graphql";
import type { StoredSizeKey, StoredSizes } from "../modules/sizes/index.ts";
import type { GraphQLContext } from "./context.ts";

// Duck-typed on purpose: the schema objects come from Apollo's copy of graphql, which may
// not be the copy this module imports (ESM vs CommonJS builds), and graphql's own
// predicates (isObjectType, valueFromAST, ...) throw on objects from another copy.
const namedType = (t: GraphQLType): GraphQLNamedType => {
  let x: any = t;
  while (x && "ofType" in x && x.ofType) x = x.ofType;
  return x;
};
const fieldsOf = (t: GraphQLNamedType): Record<string, GraphQLField<unknown, unknown>> | null =>
  "getFields" in t && typeof t.getFields === "function" && !("parseValue" in t) ? (t.getFields() as Record<string, GraphQLField<unknown, unknown>>) : null;
const intValue = (node: ValueNode, variables: Record<string, unknown>): unknown =>
  node.kind === Kind.INT ? Number.parseInt(node.value, 10) : node.kind === Kind.VARIABLE ? variables[node.name.value] : undefined;

/** A literal's value, without its type (enough for page sizes and counts). */
function literal(node: ValueNode): unknown {
  switch (node.kind) {
    case Kind.INT:
      return Number.parseInt(node.value, 10);
    case Kind.FLOAT:
      return Number.parseFloat(node.value);
    case Kind.STRING:
    case Kind.ENUM:
      return node.value;
    case Kind.BOOLEAN:
      return node.value;
    case Kind.LIST:
      return node.values.map(literal);
    case Kind.OBJECT:
      return Object.fromEntries(node.fields.map((f) => [f.name.value, literal(f.value)]));
    default:
      return null;
  }
}

/**
 * The variables as execution will see them: a variable the request leaves out takes the
 * operation's own default (`query($n: Int = 1000)`), exactly as graphql-js's variable
 * coercion does, so a default costs as much as the same value sent explicitly.
 */
export function effectiveVariables(operation: OperationDefinitionNode, given: Record<string, unknown> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = { ...(given ?? {}) };
  for (const def of operation.variableDefinitions ?? []) {
    const name = def.variable.name.value;
    if (out[name] === undefined && def.defaultValue) out[name] = literal(def.defaultValue);
  }
  return out;
}

export const MULTIPLIER_ARGS = ["first", "k"];

/** Fields whose own argument other than first/k multiplies what they select. */
export const FIELD_MULTIPLIER_ARGS: Readonly<Record<string, string>> = {
  "SaeStats.densityHistogram": "bins",
};

/**
 * How each list-valued field without first/k is charged: `stored`, at the longest such list
 * stored now; `enclosing`, already multiplied by the enclosing field's page argument (a
 * connection's edges by features(first)); `fixed`, a bound the code enforces.
 */
export type ListSize = { stored: StoredSizeKey } | { enclosing: string } | { fixed: number } | { resolved: string };

export const LIST_SIZES: Readonly<Record<string, ListSize>> = {
  "Query.models": { stored: "models" },
  "Query.families": { stored: "families" },
  "Query.saes": { stored: "saes" },
  "Model.saes": { stored: "saes" },
  "SaeFamily.saes": { stored: "saes" },
  "SaeFamily.scaling": { stored: "saes" },
  "Sae.pendingSteps": { stored: "steps" },
  "Feature.explanations": { stored: "explanationsPerFeature" },
  "Explanation.scores": { stored: "scoresPerExplanation" },
  "Feature.parents": { stored: "parentsPerFeature" },
  "Feature.children": { stored: "childrenPerFeature" },
  "LineageNode.parents": { stored: "parentsPerFeature" },
  "LineageNode.children": { stored: "childrenPerFeature" },
  "Feature.decoder": { stored: "dIn" },
  "ActivationExample.tokens": { stored: "tokens" },
  "ActivationExample.values": { stored: "tokens" },
  "FeatureLogits.positive": { stored: "logits" },
  "FeatureLogits.negative": { stored: "logits" },
  "Histogram.values": { stored: "histogram" },
  "Histogram.heights": { stored: "histogram" },
  "FeatureConnection.edges": { enclosing: "Query.features(first)" },
  "DensityHistogram.bins": { enclosing: "SaeStats.densityHistogram(bins)" },
  "Feature.activationsOnText": { stored: "textTokens" },
  "TextActivation.tokens": { stored: "textTokens" },
  "TokenActivation.features": { enclosing: "Query.activateText(k)" },
  // Paths have at most MAX_PATH_LENGTH (16) links, so 17 nodes (modules/graph/paths.ts refuses longer).
  "GraphPath.nodes": { fixed: 17 },
  // A graph's lists are charged by their resolvers at the length they return after pruning
  // (graph.resolvers.ts), since one graph may hold a million links.
  "AttributionGraph.promptTokens": { resolved: "graph.resolvers.ts" },
  "AttributionGraph.nodes": { resolved: "graph.resolvers.ts" },
  "AttributionGraph.links": { resolved: "graph.resolvers.ts" },
};

// "[Float!]" and "[Float!]!" print with a leading bracket (duck-typed, as above).
export const isListType = (t: GraphQLType): boolean => String(t).startsWith("[");

/** A stored size by key, for the field (Type.name) charged at it. */
export type SizeLookup = (key: StoredSizeKey, field: string) => number;

export function operationCost(
  schema: GraphQLSchema,
  rootType: GraphQLNamedType,
  selectionSet: SelectionSetNode,
  fragments: Record<string, FragmentDefinitionNode>,
  variables: Record<string, unknown>,
  sizes: SizeLookup = () => 0,
): number {
  const walk = (type: GraphQLNamedType, set: SelectionSetNode, seen: Set<string>): number => {
    let total = 0;
    for (const sel of set.selections) {
      if (sel.kind === Kind.FIELD) total += fieldCost(type, sel, seen);
      else if (sel.kind === Kind.INLINE_FRAGMENT) {
        const t = sel.typeCondition ? (schema.getType(sel.typeCondition.name.value) ?? type) : type;
        total += walk(t, sel.selectionSet, seen);
      } else if (sel.kind === Kind.FRAGMENT_SPREAD && !seen.has(sel.name.value)) {
        const frag = fragments[sel.name.value];
        if (!frag) continue;
        const t = schema.getType(frag.typeCondition.name.value) ?? type;
        total += walk(t, frag.selectionSet, new Set([...seen, sel.name.value]));
      }
    }
    return total;
  };
  const fieldCost = (parent: GraphQLNamedType, node: FieldNode, seen: Set<string>): number => {
    if (node.name.value.startsWith("__")) return 0;
    const def = fieldsOf(parent)?.[node.name.value];
    if (!def) return 1;
    const key = `${parent.name}.${def.name}`;
    const rule = LIST_SIZES[key];
    const list = isListType(def.type);
    const m = rule && "stored" in rule ? sizes(rule.stored, key) : rule && "fixed" in rule ? rule.fixed : multiplier(key, def, node, variables);
    if (!node.selectionSet) return list ? 1 + m : 1;
    return 1 + m * walk(namedType(def.type), node.selectionSet, seen);
  };
  return walk(rootType, selectionSet, new Set());
}

function multiplier(key: string, def: GraphQLField<unknown, unknown>, node: FieldNode, variables: Record<string, unknown>): number {
  const own = FIELD_MULTIPLIER_ARGS[key];
  for (const name of own ? [own, ...MULTIPLIER_ARGS] : MULTIPLIER_ARGS) {
    const arg = def.args.find((a) => a.name === name);
    if (!arg) continue;
    const given = node.arguments?.find((a) => a.name.value === name);
    const value = (given ? intValue(given.value, variables) : undefined) ?? arg.defaultValue;
    if (typeof value === "number" && Number.isFinite(value)) return Math.max(1, value);
  }
  return 1;
}

/** Where the plugin reads stored sizes (modules/sizes); null charges stored lists at 0. */
export interface StoredSizeSource {
  current(keys?: Iterable<StoredSizeKey>): Promise<StoredSizes>;
}

/**
 * An operation whose cost does not read its variables (page sizes are literals or defaults),
 * as the first pass found it within the limit: the stored sizes it depends on, and the full cost
 * by those sizes' values. A document served again (Apollo and the lean path keep parsed
 * documents) is then costed by one lookup; an operation over the limit is always costed again,
 * so its error names the lists.
 */
interface KnownCost {
  keys: Set<StoredSizeKey>;
  bySizes: Map<string, number>;
}

/** Variables that note which of them the cost read. */
function watched(variables: Record<string, unknown>, read: Set<string>): Record<string, unknown> {
  return new Proxy(variables, {
    get(target, name) {
      if (typeof name === "string") read.add(name);
      return target[name as string];
    },
  });
}

export function costLimitPlugin(maxCost: number, source: StoredSizeSource | null = null): ApolloServerPlugin<GraphQLContext> {
  const known = new WeakMap<OperationDefinitionNode, KnownCost>();
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, document, schema, request }) {
          if (!operation) return;
          const root = operation.operation === "mutation" ? schema.getMutationType() : schema.getQueryType();
          if (!root) return;
          const memo = known.get(operation);
          if (memo) {
            if (!memo.keys.size || !source) return;
            const stored = await source.current(memo.keys);
            const c = memo.bySizes.get([...memo.keys].map((k) => stored[k]).join(","));
            if (c !== undefined && c <= maxCost) return;
          }
          const fragments: Record<string, FragmentDefinitionNode> = {};
          for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments[d.name.value] = d;
          const read = new Set<string>();
          const variables = watched(effectiveVariables(operation, request.variables), read);
          // A first pass (stored lists at 0) notes which stored sizes the operation depends on;
          // they are read only when that pass is within the limit.
          const used = new Map<string, number>();
          const keys = new Set<StoredSizeKey>();
          let cost = operationCost(schema, root, operation.selectionSet, fragments, variables, (k, field) => (keys.add(k), used.set(field, 0), 0));
          const memoable = read.size === 0 && cost <= maxCost;
          const entry = memoable ? (known.get(operation) ?? { keys, bySizes: new Map<string, number>() }) : null;
          if (entry) known.set(operation, entry);
          if (cost > maxCost) used.clear();
          else if (keys.size && source) {
            const stored = await source.current(keys);
            cost = operationCost(schema, root, operation.selectionSet, fragments, variables, (k, field) => (used.set(field, stored[k]), stored[k]));
            // A handful of size combinations per operation at most (sizes change with writes only).
            if (entry && entry.bySizes.size < 16) entry.bySizes.set([...entry.keys].map((k) => stored[k]).join(","), cost);
          }
          if (cost > maxCost) {
            const lists = [...used].map(([f, n]) => `${f} ${n}`).join(", ");
            throw new GraphQLError(
              `query cost ${Math.round(cost)} exceeds the limit of ${maxCost}: ask for fewer items (first / k) or fewer fields per item` +
                (lists ? `; lists without first/k count at their longest stored length (${lists})` : ""),
              { extensions: { code: "GRAPHQL_VALIDATION_FAILED", cost: Math.round(cost), maxCost, http: { status: 400 } } },
            );
          }
        },
      };
    },
  };
}
