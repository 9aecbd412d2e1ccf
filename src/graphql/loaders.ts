// All per-request DataLoaders, grouped by module.
import type { App } from "../app.ts";
import { createExplanationLoaders } from "../modules/explanation/explanation.loaders.ts";
import { createFeatureLoaders } from "../modules/feature/feature.loaders.ts";
import { createGeometryLoaders } from "../modules/geometry/geometry.loaders.ts";
import { createSaeLoaders } from "../modules/sae/sae.loaders.ts";
import { createStatsLoaders } from "../modules/stats/stats.loaders.ts";

export function createLoaders(services: App["services"]) {
  return {
    sae: createSaeLoaders(services.sae),
    feature: createFeatureLoaders(services.feature),
    stats: createStatsLoaders(services.stats),
    explanation: createExplanationLoaders(services.explanation),
    geometry: createGeometryLoaders(services.geometry.nearest, services.geometry.lineage),
  };
}
export type Loaders = ReturnType<typeof createLoaders>;
