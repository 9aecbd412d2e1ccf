// Query cost limit, computed once the operation and its variables are known (so a page
// size passed as a variable counts as much as a literal one). Cost estimates the
// number of values the server resolves: every field costs 1, and a field with a
// `first` or `k` argument (literal, variable or schema default) multiplies the cost of
// what it selects by that count. Depth and alias limits are graphql-armor's.
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

const MULTIPLIER_ARGS = ["first", "k"];

export function operationCost(
  schema: GraphQLSchema,
  rootType: GraphQLNamedType,
  selectionSet: SelectionSetNode,
  fragments: Record<string, FragmentDefinitionNode>,
  variables: Record<string, unknown>,
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
    if (!def || !node.selectionSet) return 1;
    return 1 + multiplier(def, node, variables) * walk(namedType(def.type), node.selectionSet, seen);
  };
  return walk(rootType, selectionSet, new Set());
}

function multiplier(def: GraphQLField<unknown, unknown>, node: FieldNode, variables: Record<string, unknown>): number {
  for (const name of MULTIPLIER_ARGS) {
    const arg = def.args.find((a) => a.name === name);
    if (!arg) continue;
    const given = node.arguments?.find((a) => a.name.value === name);
    const value = (given ? intValue(given.value, variables) : undefined) ?? arg.defaultValue;
    if (typeof value === "number" && Number.isFinite(value)) return Math.max(1, value);
  }
  return 1;
}

export function costLimitPlugin(maxCost: number): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, document, schema, request }) {
          if (!operation) return;
          const root = operation.operation === "mutation" ? schema.getMutationType() : schema.getQueryType();
          if (!root) return;
          const fragments: Record<string, FragmentDefinitionNode> = {};
          for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments[d.name.value] = d;
          const cost = operationCost(schema, root, operation.selectionSet, fragments, effectiveVariables(operation, request.variables));
          if (cost > maxCost) {
            throw new GraphQLError(
              `query cost ${Math.round(cost)} exceeds the limit of ${maxCost}: ask for fewer items (first / k) or fewer fields per item`,
              { extensions: { code: "GRAPHQL_VALIDATION_FAILED", cost: Math.round(cost), maxCost, http: { status: 400 } } },
            );
          }
        },
      };
    },
  };
}
