// Builds the per-request context from the app's services and the server limits.
import type { Caller, GraphQLContext, Limits, ResolverServices } from "./context.ts";
import { createLoaders, type LoaderServices } from "./loaders.ts";

export interface ContextSource {
  services: ResolverServices & LoaderServices;
  config: { server: Limits };
}

export function createContext(app: ContextSource, caller: Caller): GraphQLContext {
  return {
    services: app.services,
    loaders: createLoaders(app.services),
    caller,
    limits: { maxK: app.config.server.maxK, maxPageSize: app.config.server.maxPageSize, maxCost: app.config.server.maxCost },
    request: { operationName: null, operationType: null },
  };
}
