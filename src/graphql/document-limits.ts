// A bound on how deeply a GraphQL document nests, checked before it is parsed.
// graphql-js parses recursively: a list literal or selection set a few thousand levels
// deep overflows the stack inside the parser (a RangeError, answered 500), and the
// token limit does not stop it (3,000 nested lists are only 6,000 tokens). This scan is
// one linear pass over the text that skips strings, block strings and comments.
import { GraphQLError } from "graphql";

/** Deeper than any real query: selection depth is limited to MONOSCOPE_MAX_DEPTH (10) later anyway. */
export const MAX_NESTING = 64;

/** The deepest nesting of {…}, […] and (…) in a document, stopping once it passes `stopAt`. */
export function nestingDepth(source: string, stopAt = Infinity): number {
  let depth = 0;
  let max = 0;
  const n = source.length;
  for (let i = 0; i < n; i++) {
    const c = source.charCodeAt(i);
    if (c === 0x7b || c === 0x5b || c === 0x28) {
      if (++depth > max) {
        max = depth;
        if (max > stopAt) return max;
      }
    } else if (c === 0x7d || c === 0x5d || c === 0x29) {
      if (depth > 0) depth--;
    } else if (c === 0x23) {
      // # comment to the end of the line
      while (i < n && source.charCodeAt(i) !== 0x0a && source.charCodeAt(i) !== 0x0d) i++;
    } else if (c === 0x22) {
      if (source.startsWith('"""', i)) {
        const end = findBlockStringEnd(source, i + 3);
        i = end < 0 ? n : end + 2;
      } else {
        i++;
        while (i < n) {
          const d = source.charCodeAt(i);
          if (d === 0x5c) i += 2;
          else if (d === 0x22 || d === 0x0a || d === 0x0d) break;
          else i++;
        }
      }
    }
  }
  return max;
}

function findBlockStringEnd(source: string, from: number): number {
  for (let i = from; i < source.length; i++) {
    if (source.charCodeAt(i) === 0x5c && source.startsWith('\\"""', i)) i += 3;
    else if (source.startsWith('"""', i)) return i;
  }
  return -1;
}

/** A parse error (GRAPHQL_PARSE_FAILED, 400) when the document nests deeper than `max`. */
export function documentNestingError(source: unknown, max = MAX_NESTING): GraphQLError | null {
  if (typeof source !== "string") return null;
  const depth = nestingDepth(source, max);
  if (depth <= max) return null;
  return new GraphQLError(`Syntax Error: the document is nested more than ${max} levels deep (brackets, braces or parentheses)`, {
    extensions: { code: "GRAPHQL_PARSE_FAILED", http: { status: 400 } },
  });
}
