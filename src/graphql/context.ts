// The per-request GraphQL context: services (shared), loaders (per request), caller.
import type { App } from "../app.ts";
import { createLoaders, type Loaders } from "./loaders.ts";

export interface GraphQLContext {
  app: App;
  services: App["services"];
  loaders: Loaders;
  caller: { authenticated: boolean; clientId: string };
}

export function createContext(app: App, caller: GraphQLContext["caller"]): GraphQLContext {
  return { app, services: app.services, loaders: createLoaders(app.services), caller };
}
