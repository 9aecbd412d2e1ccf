// The GraphQL error boundary. AppErrors keep their code and (redacted) message.
// GraphQLErrors raised deliberately by the server machinery (parse, validation,
// query limits, persisted queries, auth, rate limit, argument coercion) keep their
// code. Anything else is a bug or an infrastructure failure (a driver error quoting
// SQL, a Prisma error, a TypeError): it is logged with its cause and answered as
// INTERNAL_SERVER_ERROR with a fixed message. Stack traces appear only in development.
import type { GraphQLFormattedError } from "graphql";
import { isAppError, redactSecrets } from "../errors.ts";
import type { Logger } from "../logger.ts";

const INTERNAL = "INTERNAL_SERVER_ERROR";

// By its toStringTag (kept by Apollo's subclasses such as ValidationError), not instanceof:
// graphql can be loaded twice (ESM and CommonJS builds) and one copy's errors are not
// instances of the other's class.
const isGraphQLError = (e: unknown): e is Error & { originalError?: unknown } =>
  e instanceof Error && Object.prototype.toString.call(e) === "[object GraphQLError]";

/** Messages quote client input (ids, cursors); a long one is cut so an 8,000-character id is not echoed back whole. */
const MAX_MESSAGE = 500;
const bounded = (m: string) => (m.length <= MAX_MESSAGE ? m : `${m.slice(0, MAX_MESSAGE)}… (${m.length - MAX_MESSAGE} more characters)`);

const clientStatus = (e: unknown): boolean => {
  const status = (e as { extensions?: { http?: { status?: unknown } } }).extensions?.http?.status;
  return typeof status === "number" && status >= 400 && status < 500;
};

/** The error a resolver threw, from inside graphql-js's located GraphQLError wrapper. */
function unwrap(error: unknown): unknown {
  let e = error;
  while (isGraphQLError(e) && e.originalError != null) e = e.originalError;
  return e;
}

export function createFormatError(opts: { development: boolean; log: Logger }) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrap(error);
    const base = { locations: formatted.locations, path: formatted.path };
    const stack = (e: unknown) =>
      opts.development && e instanceof Error && e.stack ? { stacktrace: redactSecrets(e.stack).split("\n") } : {};

    if (isAppError(original)) {
      if (original.code !== INTERNAL) {
        return { message: bounded(redactSecrets(original.message)), ...base, extensions: { code: original.code, ...stack(original) } };
      }
    } else {
      let code = formatted.extensions?.code;
      // Apollo's own request errors without a code (an APQ hash that does not match its
      // query, an unsupported APQ version) carry a 4xx status: they are bad requests.
      if (code === INTERNAL && isGraphQLError(error) && error.originalError == null && clientStatus(error)) code = "BAD_REQUEST";
      // A parser that gave up (e.g. out of stack on a pathological document) still failed to parse the client's text.
      if (code === "GRAPHQL_PARSE_FAILED" && !isGraphQLError(original)) {
        return { message: "Syntax Error: the document could not be parsed (too large or nested too deeply)", ...base, extensions: { code } };
      }
      // A GraphQLError raised on purpose (not a resolver's unexpected throw wrapped by graphql-js).
      const deliberate = isGraphQLError(original) || (isGraphQLError(error) && error.originalError == null);
      if (deliberate && typeof code === "string" && code !== INTERNAL) {
        const { stacktrace: _s, http: _h, ...rest } = (formatted.extensions ?? {}) as Record<string, unknown>;
        return { message: bounded(redactSecrets(formatted.message)), ...base, extensions: { ...rest, code, ...stack(original) } };
      }
    }
    opts.log.error("internal error in GraphQL operation", {
      path: formatted.path?.join("."),
      error: redactSecrets(String((original as Error)?.stack ?? original)),
    });
    return {
      message: opts.development ? redactSecrets(formatted.message) : "Internal server error",
      ...base,
      extensions: { code: INTERNAL, ...stack(original) },
    };
  };
}
