// The stats module: per-SAE statistics and family scaling rows.
import type { Database } from "../../db/database.ts";
import { StatsRepository } from "./stats.repository.ts";
import { StatsService } from "./stats.service.ts";

export { statsResolvers } from "./stats.resolvers.ts";
export { createStatsLoaders, type StatsLoaders } from "./stats.loaders.ts";
export { StatsService } from "./stats.service.ts";

export function buildStatsModule(db: Database) {
  return { stats: new StatsService(new StatsRepository(db)) };
}
