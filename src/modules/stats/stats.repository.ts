// SQL for per-SAE statistics and the family scaling view. Every statement covers many
// SAEs at once (= ANY of an id array) so DataLoaders answer a whole response in one
// statement per kind of statistic. Only SAEs with status 'ready' are counted, and those being deleted (status
// 'deleting', rows kept for the grace period) when asked for by id: the Sae a request already holds.
import { z } from "zod";
import type { Database } from "../../db/database.ts";
import { parseRows } from "../../db/rows.ts";
import { Prisma } from "../../generated/prisma/client.ts";

const count = z.number().int();
const num = z.number().nullable();

export const BaseStatsRow = z.object({
  saeId: z.string(),
  /** Features whose firing is known: a density, or no density but examples were ingested for the SAE. */
  known: count,
  dead: count,
  medianDensity: num,
});
export type BaseStatsRow = z.infer<typeof BaseStatsRow>;

export const FractionRow = z.object({ saeId: z.string(), total: count, hits: count });
export type FractionRow = z.infer<typeof FractionRow>;

export const ScalingRow = z.object({
  familyId: z.string(),
  saeId: z.string(),
  dSae: count,
  featureCount: count,
  stable: count,
  split: count,
  vanished: count,
  inherited: count,
  novel: count,
  unclassified: count,
  known: count,
  dead: count,
  medianDensity: num,
  medianDensityNovel: num,
  medianDensityInherited: num,
});
export type ScalingRow = z.infer<typeof ScalingRow>;

/**
 * The one definition of a dead feature, over a feature `f` and its SAE `s` (which carries
 * has_examples = HAS_EXAMPLES): never fired on the examples ingested, i.e. density 0, or
 * (density unknown) no activation example with a positive value while the SAE has examples
 * at all. NULL when neither is known.
 */
const HAS_EXAMPLES = Prisma.sql`EXISTS (SELECT 1 FROM activation a WHERE a.sae_id = s.id)`;
const DEAD = Prisma.sql`CASE
            WHEN f.density IS NOT NULL THEN f.density <= 0
            WHEN s.has_examples THEN NOT EXISTS (
              SELECT 1 FROM activation a WHERE a.sae_id = f.sae_id AND a.feature_idx = f.idx AND a.max_value > 0)
          END`;

export const DensityBucketRow = z.object({
  saeId: z.string(),
  /** log10 of the lowest and highest positive density (null when none is positive). */
  lo: num,
  hi: num,
  dead: count,
  unknown: count,
  /** 1-based bucket; null on the SAE's row when it has no positive density. */
  bucket: count.nullable(),
  n: count.nullable(),
});
export type DensityBucketRow = z.infer<typeof DensityBucketRow>;

export class StatsRepository {
  constructor(private readonly db: Database) {}

  /** Known and dead feature counts (see DEAD) and the median density per SAE. */
  async baseStats(saeIds: readonly string[]): Promise<BaseStatsRow[]> {
    const rows = await this.db.sql`/* stats.base */
      WITH s AS (
        SELECT s.id, ${HAS_EXAMPLES} AS has_examples
        FROM sae s WHERE s.id = ANY(${[...saeIds]}::text[]) AND s.status IN ('ready', 'deleting')
      ), f AS (
        SELECT f.sae_id, f.density,
          ${DEAD} AS dead
        FROM feature f JOIN s ON s.id = f.sae_id
      )
      SELECT s.id AS "saeId",
        count(f.dead)::int AS known,
        count(*) FILTER (WHERE f.dead)::int AS dead,
        percentile_cont(0.5) WITHIN GROUP (ORDER BY f.density) AS "medianDensity"
      FROM s LEFT JOIN f ON f.sae_id = s.id
      GROUP BY s.id`;
    return parseRows(BaseStatsRow, rows);
  }

  /** Features with a decoder/neuron cosine, and those with |cosine| >= threshold. */
  async neuronAligned(saeIds: readonly string[], threshold: number): Promise<FractionRow[]> {
    const rows = await this.db.sql`/* stats.neuronAligned */
      SELECT f.sae_id AS "saeId", count(f.neuron_cosine)::int AS total,
        count(*) FILTER (WHERE abs(f.neuron_cosine) >= ${threshold}::float8)::int AS hits
      FROM feature f JOIN sae s ON s.id = f.sae_id AND s.status IN ('ready', 'deleting')
      WHERE f.sae_id = ANY(${[...saeIds]}::text[])
      GROUP BY f.sae_id`;
    return parseRows(FractionRow, rows);
  }

  /** Features with an imported/computed best neuron correlation, and those correlating >= threshold. */
  async neuronCorrelated(saeIds: readonly string[], threshold: number): Promise<FractionRow[]> {
    const rows = await this.db.sql`/* stats.neuronCorrelated */
      SELECT f.sae_id AS "saeId", count(f.neuron_corr_pearson)::int AS total,
        count(*) FILTER (WHERE f.neuron_corr_pearson >= ${threshold}::float8)::int AS hits
      FROM feature f JOIN sae s ON s.id = f.sae_id AND s.status IN ('ready', 'deleting')
      WHERE f.sae_id = ANY(${[...saeIds]}::text[])
      GROUP BY f.sae_id`;
    return parseRows(FractionRow, rows);
  }

  /** One row per ready SAE of each family: lineage kinds written by the lineage builder, densities. */
  async scaling(familyIds: readonly string[]): Promise<ScalingRow[]> {
    const rows = await this.db.sql`/* stats.scaling */
      WITH s AS (
        SELECT s.id, s.family_id, s.d_sae, ${HAS_EXAMPLES} AS has_examples
        FROM sae s WHERE s.family_id = ANY(${[...familyIds]}::text[]) AND s.status = 'ready'
      ), f AS (
        SELECT f.sae_id, f.density, f.split_kind, f.origin_kind,
          ${DEAD} AS dead
        FROM feature f JOIN s ON s.id = f.sae_id
      )
      SELECT s.family_id AS "familyId", s.id AS "saeId", s.d_sae AS "dSae",
        count(f.sae_id)::int AS "featureCount",
        count(*) FILTER (WHERE f.split_kind = 'STABLE')::int AS stable,
        count(*) FILTER (WHERE f.split_kind = 'SPLIT')::int AS split,
        count(*) FILTER (WHERE f.split_kind = 'VANISHED')::int AS vanished,
        count(*) FILTER (WHERE f.origin_kind = 'INHERITED')::int AS inherited,
        count(*) FILTER (WHERE f.origin_kind = 'NOVEL')::int AS novel,
        count(*) FILTER (WHERE f.sae_id IS NOT NULL AND (f.split_kind IS NULL OR f.origin_kind IS NULL))::int AS unclassified,
        count(f.dead)::int AS known,
        count(*) FILTER (WHERE f.dead)::int AS dead,
        percentile_cont(0.5) WITHIN GROUP (ORDER BY f.density) AS "medianDensity",
        percentile_cont(0.5) WITHIN GROUP (ORDER BY f.density) FILTER (WHERE f.origin_kind = 'NOVEL') AS "medianDensityNovel",
        percentile_cont(0.5) WITHIN GROUP (ORDER BY f.density) FILTER (WHERE f.origin_kind = 'INHERITED') AS "medianDensityInherited"
      FROM s LEFT JOIN f ON f.sae_id = s.id
      GROUP BY s.family_id, s.id, s.d_sae
      ORDER BY s.family_id, s.d_sae, s.id`;
    return parseRows(ScalingRow, rows);
  }

  /**
   * Counts of log10(density) in `bins` equal-width buckets between each SAE's lowest and
   * highest positive density (the highest goes in the last bucket), plus dead (density <= 0)
   * and unknown counts. Only non-empty buckets have a row.
   */
  densityBuckets(saeIds: readonly string[], bins: number): Promise<DensityBucketRow[]> {
    return this.db.rows(DensityBucketRow)`/* stats.densityBuckets */
      WITH f AS (
        SELECT f.sae_id, f.density, CASE WHEN f.density > 0 THEN log(f.density::float8) END AS x
        FROM feature f JOIN sae s ON s.id = f.sae_id AND s.status IN ('ready', 'deleting')
        WHERE f.sae_id = ANY(${[...saeIds]}::text[])
      ), r AS (
        SELECT sae_id, min(x) AS lo, max(x) AS hi,
          count(*) FILTER (WHERE density <= 0)::int AS dead, count(*) FILTER (WHERE density IS NULL)::int AS unknown
        FROM f GROUP BY sae_id
      ), b AS (
        SELECT f.sae_id,
          CASE WHEN r.hi > r.lo THEN least(width_bucket(f.x, r.lo, r.hi, ${bins}::int), ${bins}::int) ELSE 1 END AS bucket,
          count(*)::int AS n
        FROM f JOIN r ON r.sae_id = f.sae_id WHERE f.x IS NOT NULL GROUP BY 1, 2
      )
      SELECT r.sae_id AS "saeId", r.lo, r.hi, r.dead, r.unknown, b.bucket, b.n
      FROM r LEFT JOIN b ON b.sae_id = r.sae_id
      ORDER BY r.sae_id, b.bucket`;
  }
}
