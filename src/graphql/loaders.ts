// All per-request DataLoaders, grouped by module.
import type { App } from "../app.ts";
import { createSaeLoaders } from "../modules/sae/sae.loaders.ts";

export function createLoaders(services: App["services"]) {
  return {
    sae: createSaeLoaders(services.sae),
  };
}
export type Loaders = ReturnType<typeof createLoaders>;
