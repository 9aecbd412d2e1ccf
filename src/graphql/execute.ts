// Runs one GraphQL operation in process (the `monoscope query` verb and tests), through the
// same pipeline as the HTTP server but without loading Apollo Server (run-operation.ts).
import type { App } from "../app.ts";
import { createContext } from "./create-context.ts";
import { documentNestingError } from "./document-limits.ts";
import { createPipeline } from "./pipeline.ts";
import { runOperation } from "./run-operation.ts";

export interface ExecutionOutput {
  data?: unknown;
  errors?: readonly unknown[];
}

export async function executeQuery(app: App, query: string, variables?: Record<string, unknown>): Promise<ExecutionOutput> {
  const tooDeep = documentNestingError(query);
  if (tooDeep) return { errors: [{ message: tooDeep.message, extensions: { code: "GRAPHQL_PARSE_FAILED" } }] };
  const { data, errors } = await runOperation(
    createPipeline(app),
    { query, variables },
    createContext(app, { authenticated: true, clientId: "cli" }),
  );
  return errors ? { errors, data } : { data };
}
