// Runs one GraphQL operation through the shared pipeline (pipeline.ts) with graphql-js alone,
// following Apollo Server's request pipeline step for step (parse, validate, resolve the
// operation, the plugins' checks, execute, normalise and format errors), so that the answer
// and its errors are the ones the HTTP server gives for the same request. Loading Apollo
// Server costs a short command (`monoscope query`) about a quarter of a second; this does not.
// tests/integration/graphql-run-operation.test.ts compares the two on the same requests.
import { execute, getOperationAST, GraphQLError, type GraphQLErrorOptions, type GraphQLFormattedError, Kind, parse, specifiedRules, validate } from "graphql";
import type { GraphQLContext } from "./context.ts";
import type { GraphQLPipeline } from "./pipeline.ts";

export interface OperationRequest {
  query: string;
  variables?: Record<string, unknown>;
  operationName?: string;
}

export interface OperationResult {
  data?: unknown;
  errors?: GraphQLFormattedError[];
}

// The hooks this runner calls. A plugin with any other hook would be silently skipped here
// while the server runs it, so it is refused instead.
const SUPPORTED_HOOKS = new Set(["didResolveOperation", "didEncounterErrors"]);

/** A GraphQLError with Apollo's code for the step that refused the request. */
function coded(message: string, code: string, options: GraphQLErrorOptions = {}): GraphQLError {
  return new GraphQLError(message, { ...options, extensions: { ...options.extensions, code } });
}

const ensureGraphQLError = (e: unknown): GraphQLError =>
  e instanceof GraphQLError ? e : e instanceof Error ? new GraphQLError(e.message, { originalError: e }) : new GraphQLError(`Unexpected error value: ${String(e)}`);

// Variable coercion failures, which Apollo answers as BAD_USER_INPUT.
function isBadUserInput(e: GraphQLError): boolean {
  const node = e.nodes?.length === 1 ? e.nodes[0] : undefined;
  if (node?.kind !== Kind.VARIABLE_DEFINITION) return false;
  const v = `Variable "$${node.variable.name.value}" `;
  return ["has invalid value", "got invalid value ", "of required type ", "of non-null type "].some((s) => e.message.startsWith(v + s));
}

const isHttpHead = (x: unknown): boolean =>
  !!x && typeof x === "object" && (!("status" in x) || typeof x.status === "number") && (!("headers" in x) || x.headers instanceof Map);

export async function runOperation(p: GraphQLPipeline, request: OperationRequest, contextValue: GraphQLContext): Promise<OperationResult> {
  const ctx: Record<string, unknown> = { request, schema: p.schema, contextValue, metrics: {}, operationName: null };
  const listeners = (await Promise.all(p.plugins.map((pl) => pl.requestDidStart?.(ctx as never)))).filter((l) => l != null);
  for (const l of listeners) {
    for (const hook of Object.keys(l)) if (!SUPPORTED_HOOKS.has(hook)) throw new Error(`plugin hook ${hook} is not supported by run-operation.ts`);
  }
  const call = (hook: string) => Promise.all(listeners.map((l) => (l as Record<string, ((c: unknown) => unknown) | undefined>)[hook]?.(ctx)));

  const format = (errors: readonly GraphQLError[]): GraphQLFormattedError[] => {
    const enrich = (e: unknown): GraphQLFormattedError => {
      const g = ensureGraphQLError(e);
      const extensions: Record<string, unknown> = { ...g.extensions, code: g.extensions.code ?? "INTERNAL_SERVER_ERROR" };
      if (isHttpHead(extensions.http)) delete extensions.http;
      if (p.includeStacktrace) extensions.stacktrace = g.stack?.split("\n");
      return { ...g.toJSON(), extensions };
    };
    return errors.map((e) => {
      try {
        return p.formatError(enrich(e), e);
      } catch (formatting) {
        return p.includeStacktrace ? enrich(formatting) : { message: "Internal server error", extensions: { code: "INTERNAL_SERVER_ERROR" } };
      }
    });
  };
  const refuse = async (errors: GraphQLError[]): Promise<OperationResult> => {
    ctx.errors = errors;
    await call("didEncounterErrors");
    return { errors: format(errors) };
  };

  const { query } = request;
  if (!query) return refuse([coded("GraphQL operations must contain a non-empty `query` or a `persistedQuery` extension.", "BAD_REQUEST")]);
  ctx.source = query;
  let document;
  try {
    document = parse(query, p.parseOptions);
  } catch (e) {
    const g = ensureGraphQLError(e);
    return refuse([coded(g.message, "GRAPHQL_PARSE_FAILED", { source: g.source, positions: g.positions, extensions: g.extensions, originalError: g })]);
  }
  ctx.document = document;
  const invalid = validate(p.schema, document, [...specifiedRules, ...p.validationRules]);
  if (invalid.length) {
    return refuse(invalid.map((g) => coded(g.message, "GRAPHQL_VALIDATION_FAILED", { nodes: g.nodes, extensions: g.extensions, originalError: g.originalError ?? g })));
  }
  const operation = getOperationAST(document, request.operationName);
  ctx.operation = operation ?? undefined;
  ctx.operationName = operation?.name?.value ?? null;
  try {
    await call("didResolveOperation");
  } catch (e) {
    return refuse([ensureGraphQLError(e)]);
  }

  const result = await execute({ schema: p.schema, document, contextValue, variableValues: request.variables, operationName: request.operationName });
  if (!operation) {
    const first = result.errors?.[0];
    if (!first) throw new Error("no operation was resolved but execution reported no error");
    return refuse([coded(first.message, "OPERATION_RESOLUTION_FAILURE", { nodes: first.nodes, extensions: first.extensions, originalError: first.originalError ?? first })]);
  }
  const errors = result.errors?.map((e) =>
    isBadUserInput(e) && e.extensions?.code == null ? coded(e.message, "BAD_USER_INPUT", { nodes: e.nodes, extensions: e.extensions, originalError: e.originalError ?? e }) : e,
  );
  if (errors) {
    ctx.errors = errors;
    await call("didEncounterErrors");
  }
  return { ...result, errors: errors ? format(errors) : undefined } as OperationResult;
}
