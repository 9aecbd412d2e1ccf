// An SAE's version, for caches of its rows (decoder matrices, encoder matrices, maps): it changes
// whenever ingest may have changed the rows (updated_at moves, content_hash differs).
import { Prisma } from "../generated/prisma/client.ts";

/** SQL for the version of the sae row aliased `s`. */
export const SAE_VERSION = Prisma.sql`(extract(epoch FROM s.updated_at) * 1000)::bigint::text || ':' || coalesce(s.content_hash, '')`;
