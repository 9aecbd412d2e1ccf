// SQL for running activation vectors through an SAE's stored encoder: the SAE's
// encoding parameters, an exact scan in the database (pgvector inner product), and
// the whole encoder matrix by binary COPY for the in-process path.
import { z } from "zod";
import { copyOutForSae } from "../../db/copy-out.ts";
import type { Database } from "../../db/database.ts";
import { SAE_VERSION } from "../../db/sae-version.ts";
import { firstRow, parseRows } from "../../db/rows.ts";

export const EncodingSaeRow = z.object({
  id: z.string(),
  /** Where the SAE reads (model id and hook name), for callers that run a model first (text). */
  modelId: z.string(),
  hookName: z.string().nullable(),
  architecture: z.string().nullable(),
  dIn: z.number().int(),
  dSae: z.number().int(),
  k: z.number().int().nullable(),
  applyBDecToInput: z.boolean().nullable(),
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

const COPY_ENCODERS =
  "/* encode.copyEncoders */ COPY (SELECT idx, encoder, coalesce(b_enc, 0)::real, coalesce(threshold, 'NaN')::real FROM feature " +
  "WHERE sae_id = current_setting('monoscope.copy_sae') AND encoder IS NOT NULL ORDER BY idx) TO STDOUT WITH (FORMAT binary)";

/**
 * Parses binary COPY rows of (idx int4, encoder vector, b_enc real, threshold real).
 * pgvector's binary vector: int16 dim, int16 unused, dim x float32, all big-endian.
 */
export function parseEncoderCopy(buf: Buffer, dIn: number): EncoderBlock {
  const rowsMax = Math.floor(buf.length / (4 * dIn + 26));
  const indices = new Int32Array(rowsMax);
  const weights = new Float32Array(rowsMax * dIn);
  const bEnc = new Float32Array(rowsMax);
  const threshold = new Float32Array(rowsMax);
  let n = 0;
  let o = 19 + buf.readInt32BE(15); // signature, flags, header extension
  while (o + 2 <= buf.length) {
    const fields = buf.readInt16BE(o);
    o += 2;
    if (fields === -1) break;
    indices[n] = buf.readInt32BE(o + 4);
    o += 8;
    const len = buf.readInt32BE(o);
    const dim = buf.readInt16BE(o + 4);
    if (dim !== dIn) throw new Error(`encoder of feature ${indices[n]} has ${dim} dimensions, the SAE has d_in ${dIn}`);
    for (let j = 0, p = o + 8; j < dIn; j++, p += 4) weights[n * dIn + j] = buf.readFloatBE(p);
    o += 4 + len;
    bEnc[n] = buf.readFloatBE(o + 4);
    threshold[n] = buf.readFloatBE(o + 12);
    o += 16;
    n++;
  }
  return { indices: indices.slice(0, n), weights: weights.slice(0, n * dIn), bEnc: bEnc.slice(0, n), threshold: threshold.slice(0, n) };
}

export class EncodeRepository {
  constructor(private readonly db: Database) {}

  async sae(saeId: string): Promise<EncodingSaeRow | null> {
    const rows = await this.db.sql`/* encode.sae */
      SELECT s.id, s.model_id AS "modelId", s.hook_name AS "hookName", s.architecture, s.d_in AS "dIn", s.d_sae AS "dSae", s.k, s.apply_b_dec_to_input AS "applyBDecToInput",
        s.b_dec AS "bDec", s.config,
        ${SAE_VERSION} AS version,
        EXISTS (SELECT 1 FROM feature f WHERE f.sae_id = s.id AND f.encoder IS NOT NULL) AS "hasEncoder"
      FROM sae s WHERE s.id = ${saeId} AND s.status = 'ready'`;
    return firstRow(EncodingSaeRow, rows);
  }

  /**
   * The `limit` strongest features with pre-activation W_enc·x + b_enc above 0 (and above
   * the feature's threshold when `jump`), exact: a sequential scan with pgvector's inner product.
   */
  async scan(saeId: string, x: string, limit: number, jump: boolean): Promise<ScanRow[]> {
    const rows = await this.db.sql`/* encode.scan */
      SELECT t.idx AS "index", t.pre AS activation FROM (
        SELECT f.idx, f.threshold, (coalesce(f.b_enc, 0) - (f.encoder <#> ${x}::vector))::float8 AS pre
        FROM feature f WHERE f.sae_id = ${saeId} AND f.encoder IS NOT NULL
      ) t
      WHERE t.pre > 0 AND (NOT ${jump}::boolean OR t.threshold IS NULL OR t.pre > t.threshold)
      ORDER BY t.pre DESC, t.idx
      LIMIT ${limit}`;
    return parseRows(ScanRow, rows);
  }

  /** One feature's activation on x (0 when it does not fire), for a standard or jumprelu SAE. */
  async featureActivation(saeId: string, index: number, x: string, jump: boolean): Promise<number> {
    const rows = await this.db.sql`/* encode.featureActivation */
      SELECT f.idx AS "index", (coalesce(f.b_enc, 0) - (f.encoder <#> ${x}::vector))::float8 AS activation, f.threshold
      FROM feature f WHERE f.sae_id = ${saeId} AND f.idx = ${index} AND f.encoder IS NOT NULL`;
    const row = firstRow(ScanRow.extend({ threshold: z.number().nullable() }), rows);
    if (!row || row.activation <= 0) return 0;
    if (jump && row.threshold !== null && !(row.activation > row.threshold)) return 0;
    return row.activation;
  }

  /** Every encoder column with its bias and threshold, by index, in one binary COPY (the in-process matrix). */
  async copyEncoders(saeId: string, dIn: number): Promise<EncoderBlock> {
    return parseEncoderCopy(await copyOutForSae(this.db, COPY_ENCODERS, saeId), dIn);
  }
}
