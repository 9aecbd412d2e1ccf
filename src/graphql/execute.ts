// Runs one GraphQL operation in process (the `monoscope query` verb and tests).
import type { App } from "../app.ts";
import { createApolloServer } from "./apollo.ts";
import { createContext } from "./context.ts";
import { documentNestingError } from "./document-limits.ts";

export interface ExecutionOutput {
  data?: unknown;
  errors?: readonly unknown[];
}

export async function executeQuery(app: App, query: string, variables?: Record<string, unknown>): Promise<ExecutionOutput> {
  const tooDeep = documentNestingError(query);
  if (tooDeep) return { errors: [{ message: tooDeep.message, extensions: { code: "GRAPHQL_PARSE_FAILED" } }] };
  const server = createApolloServer(app);
  await server.start();
  try {
    const res = await server.executeOperation(
      { query, variables },
      { contextValue: createContext(app, { authenticated: true, clientId: "cli" }) },
    );
    if (res.body.kind !== "single") throw new Error("incremental delivery is not supported here");
    const { data, errors } = res.body.singleResult;
    return errors ? { errors, data } : { data };
  } finally {
    await server.stop();
  }
}
