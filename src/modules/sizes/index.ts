// The sizes module: how long the longest stored list behind each list-valued GraphQL field
// is, for the query cost limit (graphql/cost.ts).
import type { Database } from "../../db/database.ts";
import { SizesRepository } from "./sizes.repository.ts";
import { StoredSizeService } from "./sizes.service.ts";

export { StoredSizeService, type StoredSizeKey, type StoredSizes } from "./sizes.service.ts";

/**
 * textTokens: the server's token limit for text through a model, the length of a text answer's
 * token lists. A look stays current while this process writes nothing, for at most LOOK_TTL_MS.
 */
export function buildSizesModule(db: Database, opts: { textTokens?: number } = {}) {
  return { sizes: new StoredSizeService(new SizesRepository(db), opts.textTokens ?? 0, { writes: () => db.stats.writes, ttlMs: LOOK_TTL_MS }) };
}

/** How soon another process's writes (an API replica, a CLI ingest) reach this one's cost limit. */
export const LOOK_TTL_MS = 1000;
