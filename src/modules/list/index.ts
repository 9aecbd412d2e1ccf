// The list module: named, shareable lists of features with a note each. Others reach it
// through ListService.
import type { Database } from "../../db/database.ts";
import { ListRepository } from "./list.repository.ts";
import { ListService } from "./list.service.ts";

export { listResolvers } from "./list.resolvers.ts";
export { createListLoaders, type ListLoaders } from "./list.loaders.ts";
export { ListService } from "./list.service.ts";
export type { ListItemRecord, ListRecord } from "./list.service.ts";

export function buildListModule(db: Database) {
  return { lists: new ListService(new ListRepository(db)) };
}
