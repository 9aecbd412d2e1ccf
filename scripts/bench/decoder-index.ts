// The per-SAE HNSW decoder index the benches compare the in-process scan against. The product
// never builds one (the scan is faster and exact), so its DDL lives with the benches.
import { createHash } from "node:crypto";
import { assertSlug } from "../../src/db/ddl.ts";

/** pgvector's limit on indexable halfvec dimensions. */
export const HALFVEC_INDEX_MAX_DIM = 4000;

export interface HnswParams {
  m?: number;
  efConstruction?: number;
}

/**
 * A partial HNSW expression index over one SAE's decoder rows:
 *   CREATE INDEX ... ON feature USING hnsw ((decoder::halfvec(d)) halfvec_cosine_ops) WHERE sae_id = '<id>'
 * Queries must repeat the same expression and predicate to use it.
 */
export function decoderIndexStatement(saeId: string, dim: number, params: HnswParams = {}): { name: string; sql: string } {
  assertSlug("sae", saeId);
  if (!Number.isInteger(dim) || dim < 1 || dim > HALFVEC_INDEX_MAX_DIM) throw new Error(`invalid vector dimension ${dim} (1..${HALFVEC_INDEX_MAX_DIM})`);
  const m = Math.trunc(params.m ?? 16);
  const ef = Math.trunc(params.efConstruction ?? 64);
  if (!(m >= 2 && m <= 100 && ef >= 4 && ef <= 1000)) throw new Error("invalid HNSW parameters");
  const name = `feature_decoder_hnsw_${createHash("sha1").update(saeId).digest("hex").slice(0, 16)}`;
  const sql =
    `CREATE INDEX IF NOT EXISTS "${name}" ON "feature" USING hnsw ((decoder::halfvec(${dim})) halfvec_cosine_ops) ` +
    `WITH (m = ${m}, ef_construction = ${ef}) WHERE sae_id = '${saeId}'`;
  return { name, sql };
}
