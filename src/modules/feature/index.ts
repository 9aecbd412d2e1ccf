// The feature module: features, their dashboards and activation examples, paged and batched.
import type { Database } from "../../db/database.ts";
import type { SaeService } from "../sae/sae.service.ts";
import type { RequestLimits } from "../limits.ts";
import { FeatureRepository } from "./feature.repository.ts";
import { FeatureService } from "./feature.service.ts";

export { featureResolvers } from "./feature.resolvers.ts";
export { createFeatureLoaders, type FeatureLoaders } from "./feature.loaders.ts";
export { FeatureService } from "./feature.service.ts";

export function buildFeatureModule(db: Database, deps: { sae: SaeService }, limits?: RequestLimits) {
  return { feature: new FeatureService(new FeatureRepository(db), deps.sae, limits) };
}
