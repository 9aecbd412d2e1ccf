// The search module: concept search over labels and activating text (offline word vectors,
// an OpenAI-compatible embedder when one is configured).
import type { Database } from "../../db/database.ts";
import type { SaeService } from "../sae/sae.service.ts";
import { SearchRepository } from "./search.repository.ts";
import { SearchService, type SearchServiceOptions } from "./search.service.ts";

export { searchResolvers } from "./search.resolvers.ts";
export { SearchService } from "./search.service.ts";

export function buildSearchModule(db: Database, deps: { sae: SaeService }, opts: SearchServiceOptions) {
  return { search: new SearchService(new SearchRepository(db), deps.sae, opts) };
}
