// SQL for decoder geometry: SAE descriptors with a version for cache checks, whole decoder
// matrices (binary COPY: 3-10x faster than reading halfvec as text or bytea), single decoder
// rows, and the precomputed neighbour lists in feature.nn_indices / nn_cosines.
import { z } from "zod";
import type { Database } from "../../db/database.ts";
import { copyOutChunksForSae } from "../../db/copy-out.ts";
import { SAE_VERSION } from "../../db/sae-version.ts";
import { intArray, numberArray } from "../../db/rows.ts";
import { parseVectorLiteral } from "../../db/vector.ts";
import { type FeatureKey, featureKey } from "../../shared/feature-key.ts";

export const SaeGeometry = z.object({
  id: z.string(),
  modelId: z.string(),
  familyId: z.string().nullable(),
  dIn: z.number().int(),
  dSae: z.number().int(),
  /** Changes whenever the SAE's rows may have changed (updated_at + content hash). */
  version: z.string(),
});
export type SaeGeometry = z.infer<typeof SaeGeometry>;


export const NeighbourList = z.object({
  saeId: z.string(),
  index: z.number().int(),
  nnIndices: intArray.nullable(),
  nnCosines: numberArray.nullable(),
});
export type NeighbourList = z.infer<typeof NeighbourList>;

const KeyRow = z.object({ saeId: z.string(), index: z.number().int() });
const DecoderTextRow = KeyRow.extend({ decoder: z.string() });

const COPY_DECODERS =
  "/* geometry.copyDecoders */ COPY (SELECT idx, decoder FROM feature WHERE sae_id = current_setting('monoscope.copy_sae') " +
  "AND decoder IS NOT NULL ORDER BY idx) TO STDOUT WITH (FORMAT binary)";

const IdxRow = z.object({ idx: z.number().int() });
const ListRow = IdxRow.extend({ nnIndices: intArray.nullable() });

export class GeometryRepository {
  constructor(private readonly db: Database) {}

  /** Ready SAEs among ids (unknown or loading ones are absent). */
  async saes(ids: readonly string[]): Promise<SaeGeometry[]> {
    return this.db.rows(SaeGeometry)`
      /* geometry.saes */
      SELECT id, model_id AS "modelId", family_id AS "familyId", d_in AS "dIn", d_sae AS "dSae",
             ${SAE_VERSION} AS version
      FROM sae s WHERE id = ANY(${[...ids]}::text[]) AND status = 'ready'`;
  }

  /** Binary COPY of (idx int4, decoder halfvec) for every feature with a decoder, by idx, as it streams. */
  copyDecoders(saeId: string, onChunk: (chunk: Buffer) => void): Promise<void> {
    return copyOutChunksForSae(this.db, COPY_DECODERS, saeId, onChunk);
  }

  /** Unit decoder directions of a few features (absent when the feature or its decoder is missing). */
  async decoders(keys: readonly FeatureKey[]): Promise<Map<string, Float32Array>> {
    const rows = await this.db.rows(DecoderTextRow)`
      /* geometry.decoders */
      SELECT f.sae_id AS "saeId", f.idx AS "index", f.decoder::text AS decoder
      FROM unnest(${keys.map((k) => k.saeId)}::text[], ${keys.map((k) => k.index)}::int[]) AS k(sae_id, idx)
      JOIN feature f ON f.sae_id = k.sae_id AND f.idx = k.idx
      WHERE f.decoder IS NOT NULL`;
    return new Map(rows.map((r) => [featureKey(r), parseVectorLiteral(r.decoder)]));
  }

  /** Which of these features exist (with or without a decoder). */
  async existing(keys: readonly FeatureKey[]): Promise<Set<string>> {
    const rows = await this.db.rows(KeyRow)`
      /* geometry.existing */
      SELECT f.sae_id AS "saeId", f.idx AS "index"
      FROM unnest(${keys.map((k) => k.saeId)}::text[], ${keys.map((k) => k.index)}::int[]) AS k(sae_id, idx)
      JOIN feature f ON f.sae_id = k.sae_id AND f.idx = k.idx`;
    return new Set(rows.map((r) => featureKey(r)));
  }

  async neighbourLists(keys: readonly FeatureKey[]): Promise<NeighbourList[]> {
    return this.db.rows(NeighbourList)`
      /* geometry.neighbourLists */
      SELECT f.sae_id AS "saeId", f.idx AS "index", f.nn_indices AS "nnIndices", f.nn_cosines AS "nnCosines"
      FROM unnest(${keys.map((k) => k.saeId)}::text[], ${keys.map((k) => k.index)}::int[]) AS k(sae_id, idx)
      JOIN feature f ON f.sae_id = k.sae_id AND f.idx = k.idx
      JOIN sae s ON s.id = f.sae_id AND s.status = 'ready'`;
  }

  /**
   * Stores each feature's top-K neighbour list. indices/cosines are flat (rows × K);
   * the statement slices them per row so a batch is one round trip.
   */
  async writeNeighbourLists(saeId: string, rows: Int32Array, k: number, indices: Int32Array, cosines: Float32Array): Promise<void> {
    await this.db.prisma.$executeRaw`
      /* geometry.writeNeighbourLists */
      UPDATE feature f SET
        nn_indices = (${Array.from(indices)}::int[])[u.o * ${k} + 1 : u.o * ${k} + ${k}],
        nn_cosines = (${Array.from(cosines)}::real[])[u.o * ${k} + 1 : u.o * ${k} + ${k}]
      FROM (SELECT idx, (ord - 1)::int AS o FROM unnest(${Array.from(rows)}::int[]) WITH ORDINALITY AS x(idx, ord)) u
      WHERE f.sae_id = ${saeId} AND f.idx = u.idx`;
  }

  /** Stored neighbour lists of features idx in [from, to), by index (the IVF build's joins read them all, a page at a time). */
  async neighbourListPage(saeId: string, from: number, to: number): Promise<{ idx: number; nnIndices: number[] | null }[]> {
    return this.db.rows(ListRow)`
      /* geometry.neighbourListPage */
      SELECT idx, nn_indices AS "nnIndices" FROM feature WHERE sae_id = ${saeId} AND idx >= ${from} AND idx < ${to} AND decoder IS NOT NULL ORDER BY idx`;
  }

  /** Features with a decoder and no stored neighbour list, by index. */
  async withoutNeighbourList(saeId: string): Promise<number[]> {
    const rows = await this.db.rows(IdxRow)`
      /* geometry.withoutNeighbourList */
      SELECT idx FROM feature WHERE sae_id = ${saeId} AND decoder IS NOT NULL AND nn_indices IS NULL ORDER BY idx`;
    return rows.map((r) => r.idx);
  }

  async clearNeighbourLists(saeId: string): Promise<void> {
    await this.db.prisma.$executeRaw`
      /* geometry.clearNeighbourLists */
      UPDATE feature SET nn_indices = NULL, nn_cosines = NULL WHERE sae_id = ${saeId} AND nn_indices IS NOT NULL`;
  }
}
