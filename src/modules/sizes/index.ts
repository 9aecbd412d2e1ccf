// The sizes module: how long the longest stored list behind each list-valued GraphQL field
// is, for the query cost limit (graphql/cost.ts).
import type { Database } from "../../db/database.ts";
import { SizesRepository } from "./sizes.repository.ts";
import { StoredSizeService } from "./sizes.service.ts";

export { StoredSizeService, type StoredSizeKey, type StoredSizes } from "./sizes.service.ts";

/** textTokens: the server's token limit for text through a model, the length of a text answer's token lists. */
export function buildSizesModule(db: Database, opts: { textTokens?: number } = {}) {
  return { sizes: new StoredSizeService(new SizesRepository(db), opts.textTokens ?? 0) };
}
