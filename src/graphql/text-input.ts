// Text a PostgreSQL text value cannot hold is refused once, here, before any resolver
// runs: a NUL character (U+0000) in any string argument, literal or variable, at any
// depth of a list or input object. Without this every resolver that passes a string to
// SQL failed with "invalid byte sequence for encoding UTF8: 0x00" (INTERNAL_SERVER_ERROR
// and a stack trace per request).
import type { ApolloServerPlugin } from "@apollo/server";
import { type ASTNode, type DocumentNode, GraphQLError, type OperationDefinitionNode, visit } from "graphql";
import type { GraphQLContext } from "./context.ts";

const NUL = "\u0000";

function badText(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: "BAD_USER_INPUT", http: { status: 400 } } });
}

/** Where a NUL sits in a variable's value ("q", "ids[1]", "filter.label"), or null. Iterative: values may nest deeply. */
export function findNul(value: unknown, path: string): string | null {
  const stack: [unknown, string][] = [[value, path]];
  while (stack.length) {
    const [v, p] = stack.pop()!;
    if (typeof v === "string") {
      if (v.includes(NUL)) return p;
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], `${p}[${i}]`]);
    } else if (v && typeof v === "object") {
      for (const [k, x] of Object.entries(v)) {
        if (k.includes(NUL)) return `${p}.<key>`;
        stack.push([x, `${p}.${k}`]);
      }
    }
  }
  return null;
}

// Apollo hands the same parsed document to every request with the same query text (its
// document cache), and the answer depends on the document alone: walked once per document.
const literalChecked = new WeakMap<DocumentNode, string | null>();

/** The field and argument whose literal string holds a NUL, e.g. `searchConcepts(query:)`. */
function literalWithNul(document: DocumentNode): string | null {
  const known = literalChecked.get(document);
  if (known !== undefined) return known;
  const found = walkLiterals(document);
  literalChecked.set(document, found);
  return found;
}

function walkLiterals(document: DocumentNode): string | null {
  let found: string | null = null;
  const fields: string[] = [];
  const args: string[] = [];
  visit(document, {
    Field: { enter: (n) => void fields.push(n.name.value), leave: () => void fields.pop() },
    Argument: { enter: (n) => void args.push(n.name.value), leave: () => void args.pop() },
    StringValue(n: ASTNode & { value: string }) {
      if (found === null && n.value.includes(NUL)) found = `${fields.at(-1) ?? "operation"}(${args.at(-1) ?? "?"}:)`;
    },
  });
  return found;
}

export function assertTextInput(document: DocumentNode, operation: OperationDefinitionNode | null | undefined, variables: Record<string, unknown> | undefined): void {
  const literal = literalWithNul(document);
  if (literal) throw badText(`argument ${literal} contains a NUL character (\\u0000), which text values cannot hold`);
  for (const def of operation?.variableDefinitions ?? []) {
    const name = def.variable.name.value;
    const at = findNul(variables?.[name], `$${name}`);
    if (at) throw badText(`variable ${at} contains a NUL character (\\u0000), which text values cannot hold`);
  }
}

/** Runs the check once the operation is known and before it executes. */
export function textInputPlugin(): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, operation, request }) {
          assertTextInput(document, operation, request.variables);
        },
      };
    },
  };
}
