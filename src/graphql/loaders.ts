// All per-request DataLoaders, grouped by module.
import type { App } from "../app.ts";
import { createFeatureLoaders } from "../modules/feature/feature.loaders.ts";
import { createSaeLoaders } from "../modules/sae/sae.loaders.ts";

export function createLoaders(services: App["services"]) {
  return {
    sae: createSaeLoaders(services.sae),
    feature: createFeatureLoaders(services.feature),
  };
}
export type Loaders = ReturnType<typeof createLoaders>;
