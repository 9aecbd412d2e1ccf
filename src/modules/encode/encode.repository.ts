// SQL for running activation vectors through an SAE's stored encoder: the SAE's
// encoding parameters, an exact scan in the database (pgvector inner product), and
// the encoder matrix in blocks for the in-process path.
import { z } from "zod";
import type { Database } from "../../db/database.ts";
import { parseVectorLiteral } from "../../db/vector.ts";

export const EncodingSaeRow = z.object({
  id: z.string(),
  architecture: z.string(),
  dIn: z.number().int(),
  dSae: z.number().int(),
  k: z.number().int().nullable(),
  applyBDecToInput: z.boolean(),
  bDec: z.array(z.number()).nullable(),
  config: z.unknown(),
  /** Changes whenever the SAE's rows are replaced or merged into: keys the in-process cache. */
  version: z.string(),
  hasEncoder: z.boolean(),
});
export type EncodingSaeRow = z.infer<typeof EncodingSaeRow>;

const ScanRow = z.object({ index: z.number().int(), activation: z.number() });
export type ScanRow = z.infer<typeof ScanRow>;

export interface EncoderBlock {
  indices: Int32Array;
  /** rows × dIn, row-major. */
  weights: Float32Array;
  bEnc: Float32Array;
  /** NaN where a feature has no threshold. */
  threshold: Float32Array;
}

const EncoderRow = z.object({
  index: z.number().int(),
  encoder: z.string(),
  bEnc: z.number().nullable(),
  threshold: z.number().nullable(),
});

export class EncodeRepository {
  constructor(private readonly db: Database) {}

  async sae(saeId: string): Promise<EncodingSaeRow | null> {
    const rows = await this.db.prisma.$queryRaw<unknown[]>`/* encode.sae */
      SELECT s.id, s.architecture, s.d_in AS "dIn", s.d_sae AS "dSae", s.k, s.apply_b_dec_to_input AS "applyBDecToInput",
        s.b_dec AS "bDec", s.config,
        concat_ws('|', s.created_at::text, s.updated_at::text, s.content_hash) AS version,
        EXISTS (SELECT 1 FROM feature f WHERE f.sae_id = s.id AND f.encoder IS NOT NULL) AS "hasEncoder"
      FROM sae s WHERE s.id = ${saeId} AND s.status = 'ready'`;
    return rows.length ? EncodingSaeRow.parse(rows[0]) : null;
  }

  /**
   * The `limit` strongest features with pre-activation W_enc·x + b_enc above 0 (and above
   * the feature's threshold when `jump`), exact: a sequential scan with pgvector's inner product.
   */
  async scan(saeId: string, x: string, limit: number, jump: boolean): Promise<ScanRow[]> {
    const rows = await this.db.prisma.$queryRaw<unknown[]>`/* encode.scan */
      SELECT t.idx AS "index", t.pre AS activation FROM (
        SELECT f.idx, f.threshold, (coalesce(f.b_enc, 0) - (f.encoder <#> ${x}::vector))::float8 AS pre
        FROM feature f WHERE f.sae_id = ${saeId} AND f.encoder IS NOT NULL
      ) t
      WHERE t.pre > 0 AND (NOT ${jump}::boolean OR t.threshold IS NULL OR t.pre > t.threshold)
      ORDER BY t.pre DESC, t.idx
      LIMIT ${limit}`;
    return rows.map((r) => ScanRow.parse(r));
  }

  /** Encoder columns with index > after, in index order (for the in-process matrix). */
  async encoderBlock(saeId: string, dIn: number, after: number, limit: number): Promise<EncoderBlock> {
    const rows = await this.db.prisma.$queryRaw<unknown[]>`/* encode.encoderBlock */
      SELECT f.idx AS "index", f.encoder::text AS encoder, f.b_enc AS "bEnc", f.threshold
      FROM feature f WHERE f.sae_id = ${saeId} AND f.idx > ${after} AND f.encoder IS NOT NULL
      ORDER BY f.idx LIMIT ${limit}`;
    const n = rows.length;
    const block: EncoderBlock = {
      indices: new Int32Array(n),
      weights: new Float32Array(n * dIn),
      bEnc: new Float32Array(n),
      threshold: new Float32Array(n),
    };
    rows.forEach((raw, i) => {
      const r = EncoderRow.parse(raw);
      const w = parseVectorLiteral(r.encoder);
      if (w.length !== dIn) throw new Error(`feature ${saeId}:${r.index} has an encoder of length ${w.length}, expected ${dIn}`);
      block.indices[i] = r.index;
      block.weights.set(w, i * dIn);
      block.bEnc[i] = r.bEnc ?? 0;
      block.threshold[i] = r.threshold ?? Number.NaN;
    });
    return block;
  }
}
