// The GraphQL error boundary: AppErrors keep their code and message; anything else
// becomes INTERNAL_SERVER_ERROR with no stack, SQL or secret outside development.
import type { GraphQLFormattedError } from "graphql";
import { unwrapResolverError } from "@apollo/server/errors";
import { isAppError, redactSecrets } from "../errors.ts";
import type { Logger } from "../logger.ts";

const PASS_THROUGH = new Set([
  "GRAPHQL_PARSE_FAILED",
  "GRAPHQL_VALIDATION_FAILED",
  "BAD_USER_INPUT",
  "BAD_REQUEST",
  "PERSISTED_QUERY_NOT_FOUND",
  "PERSISTED_QUERY_NOT_SUPPORTED",
  "OPERATION_RESOLUTION_FAILURE",
  "UNAUTHENTICATED",
  "RATE_LIMITED",
  "NOT_FOUND",
]);

export function createFormatError(opts: { development: boolean; log: Logger }) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    if (isAppError(original)) {
      return {
        message: redactSecrets(original.message),
        locations: formatted.locations,
        path: formatted.path,
        extensions: { code: original.code },
      };
    }
    const code = (formatted.extensions?.code as string | undefined) ?? "INTERNAL_SERVER_ERROR";
    if (PASS_THROUGH.has(code) || code.startsWith("GRAPHQL_") || /^[A-Z_]+$/.test(code) && code !== "INTERNAL_SERVER_ERROR" && !(original instanceof Error && !("extensions" in original))) {
      const { stacktrace: _s, ...ext } = (formatted.extensions ?? {}) as Record<string, unknown>;
      return { ...formatted, message: redactSecrets(formatted.message), extensions: opts.development ? formatted.extensions : ext };
    }
    opts.log.error("internal error in GraphQL operation", {
      path: formatted.path?.join("."),
      error: redactSecrets(String((original as Error)?.stack ?? original)),
    });
    return {
      message: opts.development ? redactSecrets(formatted.message) : "Internal server error",
      locations: formatted.locations,
      path: formatted.path,
      extensions: { code: "INTERNAL_SERVER_ERROR" },
    };
  };
}
