// The lean path for the common GraphQL request: a JSON POST of a query operation whose document
// parses and validates, that the plugins' checks let through and that executes without an error.
// It answers what Apollo Server would (status 200, `application/json; charset=utf-8`,
// `{"data":...}` and a newline) without Apollo's per-request pipeline, over the same schema, the
// same plugins (their didResolveOperation and willSendResponse hooks: API keys, input sizes, NUL
// checks, the cost limit, metrics, read routing) and a cache of parsed and validated documents by
// query text. Anything else goes to Apollo from the start: persisted queries, GET, other media
// types, mutations, documents that fail to parse or validate, a plugin that refuses the operation
// or has other hooks, and any execution error (a query only reads, so Apollo running it again
// gives the answer and error formatting it always gave).
import type { ApolloServerPlugin } from "@apollo/server";
import { type DocumentNode, execute, getOperationAST, type OperationDefinitionNode, parse, specifiedRules, validate } from "graphql";
import type { GraphQLContext } from "./context.ts";
import type { GraphQLPipeline } from "./pipeline.ts";

/** Query texts whose parsed and validated documents are kept (oldest dropped first). */
const MAX_DOCUMENTS = 1000;
/** Longer query texts are not kept (they take Apollo's path, which has its own cache). */
const MAX_CACHED_QUERY = 20_000;

const HOOKS = new Set(["didResolveOperation", "willSendResponse"]);

export interface FastRequest {
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

type Listener = Record<string, ((rc: unknown) => unknown) | undefined>;

export interface FastPath {
  /** The response body when this path answered the request; null when Apollo must. */
  run(request: FastRequest, contextValue: GraphQLContext): Promise<string | null>;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === "object" && !Array.isArray(v);

export function createFastPath(p: GraphQLPipeline, plugins: readonly ApolloServerPlugin<GraphQLContext>[]): FastPath {
  const documents = new Map<string, DocumentNode | null>();
  const rules = [...specifiedRules, ...p.validationRules];

  /** The query's document when it parses and validates (null when it does not: Apollo reports why). */
  function documentOf(query: string): DocumentNode | null {
    const known = documents.get(query);
    if (known !== undefined) return known;
    let doc: DocumentNode | null;
    try {
      doc = parse(query, p.parseOptions);
      if (validate(p.schema, doc, rules).length) doc = null;
    } catch {
      doc = null;
    }
    if (query.length <= MAX_CACHED_QUERY) {
      if (documents.size >= MAX_DOCUMENTS) documents.delete(documents.keys().next().value!);
      documents.set(query, doc);
    }
    return doc;
  }

  return {
    async run(request, contextValue) {
      const type = request.headers["content-type"];
      const accept = request.headers.accept;
      if (typeof type !== "string" || !type.startsWith("application/json")) return null;
      if (accept !== undefined && accept !== "*/*" && accept !== "application/json") return null;
      const body = request.body;
      if (!isPlainObject(body) || typeof body.query !== "string" || body.query === "" || body.extensions !== undefined) return null;
      const { query, variables, operationName } = body;
      if (variables != null && !isPlainObject(variables)) return null;
      if (operationName != null && typeof operationName !== "string") return null;
      const document = documentOf(query);
      if (!document) return null;
      const operation: OperationDefinitionNode | null | undefined = getOperationAST(document, operationName ?? undefined);
      if (!operation || operation.operation !== "query") return null;

      const req = { query, variables: variables ?? undefined, operationName: operationName ?? undefined, http: { headers: request.headers } };
      const rc: Record<string, unknown> = {
        request: req,
        schema: p.schema,
        contextValue,
        metrics: {},
        source: query,
        document,
        operation,
        operationName: operation.name?.value ?? null,
      };
      const listeners: Listener[] = [];
      for (const pl of plugins) {
        const l = (await pl.requestDidStart?.(rc as never)) as Listener | void;
        if (!l) continue;
        for (const hook of Object.keys(l)) if (l[hook] && !HOOKS.has(hook)) return null;
        listeners.push(l);
      }
      try {
        for (const l of listeners) await l.didResolveOperation?.(rc);
      } catch {
        return null; // refused: Apollo answers with the plugin's error and status
      }
      const result = await execute({ schema: p.schema, document, contextValue, variableValues: req.variables, operationName: req.operationName });
      if (result.errors?.length) return null;
      rc.response = { body: { kind: "single", singleResult: { data: result.data } }, http: { headers: new Map(), status: undefined } };
      for (const l of listeners) await l.willSendResponse?.(rc);
      return JSON.stringify({ data: result.data }) + "\n";
    },
  };
}
