// The graph module: attribution graphs (circuit-tracer / Neuronpedia JSON) stored as rows,
// exported back, and searched for paths and mediators in memory. Others reach it through GraphService.
import type { Database } from "../../db/database.ts";
import type { RequestLimits } from "../../shared/limits.ts";
import { GraphRepository } from "./graph.repository.ts";
import { graphAlgorithms } from "./graph-algorithms.ts";
import { type GraphAlgorithms, GraphService } from "./graph.service.ts";

export { graphResolvers } from "./graph.resolvers.ts";
export { createGraphLoaders, type GraphLoaders } from "./graph.loaders.ts";
export { GraphService, parseLayerMapping } from "./graph.service.ts";
export type { GraphIngestSummary, GraphRecord, LayerSaeMapping } from "./graph.service.ts";

export function buildGraphModule(db: Database, limits?: RequestLimits, algorithms: GraphAlgorithms | null = graphAlgorithms) {
  return { graph: new GraphService(new GraphRepository(db), algorithms, limits) };
}
