// The per-request GraphQL context: services (shared), loaders (per request), caller.
import type { App } from "../app.ts";
import { createLoaders, type Loaders } from "./loaders.ts";

export interface GraphQLContext {
  app: App;
  services: App["services"];
  loaders: Loaders;
  caller: { authenticated: boolean; clientId: string };
  /** Filled in while the operation runs; read by the HTTP layer's access log and metrics. */
  request: { operationName: string | null; operationType: string | null };
}

export function createContext(app: App, caller: GraphQLContext["caller"]): GraphQLContext {
  return {
    app,
    services: app.services,
    loaders: createLoaders(app.services),
    caller,
    request: { operationName: null, operationType: null },
  };
}
