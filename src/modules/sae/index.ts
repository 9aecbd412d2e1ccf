// The sae module: models, families and SAEs. Built from the database; others reach it through SaeService.
import type { Database } from "../../db/database.ts";
import { SaeRepository } from "./sae.repository.ts";
import { SaeService } from "./sae.service.ts";

export { saeResolvers } from "./sae.resolvers.ts";
export { createSaeLoaders, type SaeLoaders } from "./sae.loaders.ts";
export { SaeService } from "./sae.service.ts";
export type { FamilyRecord, ModelRecord, SaeRecord } from "./sae.service.ts";

export function buildSaeModule(db: Database) {
  return { sae: new SaeService(new SaeRepository(db)) };
}
