// A bound on how many values a request's variables may carry, checked before anything walks
// or coerces them. Document literals are bounded by the parser's token limit, but variables
// are not: a 4 MB body holding a list of 10^6 items took 2-17 s of event-loop time to coerce
// and resolve (every other request waiting), far beyond any real argument (k and page sizes
// are at most 1,000; a decoder direction has d_in values).
import type { ApolloServerPlugin } from "@apollo/server";
import { GraphQLError } from "graphql";
import type { GraphQLContext } from "./context.ts";

/** Values (list items and object fields, at any depth) one request's variables may hold. */
export const MAX_VARIABLE_VALUES = 100_000;

/** The first variable whose values push the total past `max`, with the total so far, or null. */
export function oversizedVariable(variables: Record<string, unknown> | undefined, max = MAX_VARIABLE_VALUES): { name: string; count: number } | null {
  let count = 0;
  for (const [name, value] of Object.entries(variables ?? {})) {
    const stack: unknown[] = [value];
    while (stack.length) {
      const v = stack.pop();
      const items = Array.isArray(v) ? v : v && typeof v === "object" ? Object.values(v) : null;
      if (!items) continue;
      count += items.length;
      if (count > max) return { name, count };
      for (const x of items) if (x !== null && typeof x === "object") stack.push(x);
    }
  }
  return null;
}

export function inputSizePlugin(max = MAX_VARIABLE_VALUES): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ request }) {
          const over = oversizedVariable(request.variables, max);
          if (over)
            throw new GraphQLError(`variable $${over.name} holds more than ${max} values (lists and input fields, counted together); send less per request`, {
              extensions: { code: "BAD_USER_INPUT", http: { status: 400 } },
            });
        },
      };
    },
  };
}
