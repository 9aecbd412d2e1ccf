// All per-request DataLoaders, one group per module, over the services they batch for.
import type { Loaders } from "./context.ts";
import { createExplanationLoaders, type ExplanationService } from "../modules/explanation/index.ts";
import { createFeatureLoaders, type FeatureService } from "../modules/feature/index.ts";
import { createGeometryLoaders, type GeometryService } from "../modules/geometry/index.ts";
import { createGraphLoaders, type GraphService } from "../modules/graph/index.ts";
import { createListLoaders, type ListService } from "../modules/list/index.ts";
import { createSaeLoaders, type SaeService } from "../modules/sae/index.ts";
import { createStatsLoaders, type StatsService } from "../modules/stats/index.ts";

export interface LoaderServices {
  sae: SaeService;
  feature: FeatureService;
  stats: StatsService;
  explanation: ExplanationService;
  geometry: GeometryService;
  lists: ListService;
  graph: GraphService;
}

export function createLoaders(services: LoaderServices): Loaders {
  return {
    sae: createSaeLoaders(services.sae),
    feature: createFeatureLoaders(services.feature),
    stats: createStatsLoaders(services.stats),
    explanation: createExplanationLoaders(services.explanation),
    geometry: createGeometryLoaders(services.geometry.nearest, services.geometry.lineage),
    list: createListLoaders(services.lists),
    graph: createGraphLoaders(services.graph),
  };
}
