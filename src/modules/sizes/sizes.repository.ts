// SQL for the stored sizes the query cost limit charges list fields at (graphql/cost.ts):
// how long the longest stored list behind each list-valued field is. One cheap statement
// (the SAE table and id watermarks) runs per look (sizes.service.ts: not while nothing was
// written and the last look is under a second old); the scans run only for
// what changed since the last look (one SAE's rows, the explanations added since an id).
import { z } from "zod";
import type { Database } from "../../db/database.ts";
import { int8, onlyRow } from "../../db/rows.ts";

export const SaeVersionRow = z.object({ id: z.string(), dIn: z.number().int(), version: z.string() });
export type SaeVersionRow = z.infer<typeof SaeVersionRow>;

export const WatermarkRow = z.object({
  models: z.number().int(),
  families: z.number().int(),
  /** Highest explanation / score id: new rows are the ones above it. */
  explanationId: int8,
  scoreId: int8,
  /** Changes whenever any family's lineage is rebuilt. */
  lineageBuilt: z.string(),
  /** Most post-ingest step rows of one SAE (the table is small: a few rows per SAE). */
  steps: z.number().int(),
});
export type WatermarkRow = z.infer<typeof WatermarkRow>;

const LookRow = WatermarkRow.extend({ saes: z.array(SaeVersionRow) });
export type LookRow = z.infer<typeof LookRow>;

export const SaeSizeRow = z.object({ id: z.string(), tokens: z.number().int(), logits: z.number().int(), histogram: z.number().int() });
export type SaeSizeRow = z.infer<typeof SaeSizeRow>;

const MaxRow = z.object({ n: z.number().int() });
const EdgeRow = z.object({ parents: z.number().int(), children: z.number().int() });

export class SizesRepository {
  constructor(private readonly db: Database) {}

  /**
   * One statement: every SAE with a version that changes on each write of its artifacts
   * (ingest bumps updated_at), and the watermarks.
   */
  async look(): Promise<LookRow> {
    return onlyRow(LookRow, await this.db.sql`
      /* sizes.look */
      SELECT (SELECT coalesce(json_agg(json_build_object('id', id, 'dIn', d_in, 'version', status || ':' || updated_at::text)), '[]'::json)
                FROM sae) AS saes,
             (SELECT count(*)::int FROM model) AS models,
             (SELECT count(*)::int FROM sae_family) AS families,
             (SELECT coalesce(max(id), 0)::int8 FROM explanation) AS "explanationId",
             (SELECT coalesce(max(id), 0)::int8 FROM explanation_score) AS "scoreId",
             (SELECT coalesce(max(lineage_built_at)::text, '') || ':' || count(*)::text FROM sae_family) AS "lineageBuilt",
             (SELECT coalesce(max(c), 0)::int FROM (SELECT count(*) AS c FROM sae_step GROUP BY sae_id) s) AS steps`);
  }

  /**
   * Per SAE: the longest activation example (tokens or values), logit list and histogram.
   * Dashboard JSON comes in several layouts (feature.dashboard.ts): an array's length, or the
   * longest array member of an object ({tokens, values}, {bar_values, bar_heights}, ...).
   */
  perSae(ids: readonly string[]): Promise<SaeSizeRow[]> {
    return this.db.rows(SaeSizeRow)`
      /* sizes.perSae */
      SELECT s.id,
        (SELECT coalesce(max(greatest(coalesce(cardinality(a.tokens), 0), coalesce(cardinality(a."values"), 0))), 0)::int
           FROM activation a WHERE a.sae_id = s.id) AS tokens,
        (SELECT coalesce(max(j.n), 0)::int FROM feature_dashboard d
           CROSS JOIN LATERAL (VALUES (d.pos_logits), (d.neg_logits)) AS x(v)
           CROSS JOIN LATERAL (SELECT CASE jsonb_typeof(x.v) WHEN 'array' THEN jsonb_array_length(x.v)
             WHEN 'object' THEN (SELECT max(jsonb_array_length(m.value)) FROM jsonb_each(x.v) m WHERE jsonb_typeof(m.value) = 'array')
             END AS n) j
           WHERE d.sae_id = s.id) AS logits,
        (SELECT coalesce(max(j.n), 0)::int FROM feature_dashboard d
           CROSS JOIN LATERAL (VALUES (d.freq_histogram), (d.logits_histogram)) AS x(v)
           CROSS JOIN LATERAL (SELECT CASE jsonb_typeof(x.v) WHEN 'array' THEN jsonb_array_length(x.v)
             WHEN 'object' THEN (SELECT max(jsonb_array_length(m.value)) FROM jsonb_each(x.v) m WHERE jsonb_typeof(m.value) = 'array')
             END AS n) j
           WHERE d.sae_id = s.id) AS histogram
      FROM unnest(${[...ids]}::text[]) AS s(id)`;
  }

  /** Most explanations of one feature, among the features that got one with an id above afterId. */
  async explanationsPerFeature(afterId: number): Promise<number> {
    const rows = await this.db.rows(MaxRow)`
      /* sizes.explanationsPerFeature */
      SELECT coalesce(max(c), 0)::int AS n FROM (
        SELECT count(*) AS c FROM explanation e
        WHERE (e.sae_id, e.feature_idx) IN (SELECT sae_id, feature_idx FROM explanation WHERE id > ${afterId})
        GROUP BY e.sae_id, e.feature_idx) t`;
    return rows[0]?.n ?? 0;
  }

  /** Most scores of one explanation, among those that got one with an id above afterId. */
  async scoresPerExplanation(afterId: number): Promise<number> {
    const rows = await this.db.rows(MaxRow)`
      /* sizes.scoresPerExplanation */
      SELECT coalesce(max(c), 0)::int AS n FROM (
        SELECT count(*) AS c FROM explanation_score s
        WHERE s.explanation_id IN (SELECT explanation_id FROM explanation_score WHERE id > ${afterId})
        GROUP BY s.explanation_id) t`;
    return rows[0]?.n ?? 0;
  }

  /** Most stored lineage edges of one feature, as a child (its parents) and as a parent (its children). */
  async edgesPerFeature(): Promise<{ parents: number; children: number }> {
    return onlyRow(EdgeRow, await this.db.sql`
      /* sizes.edgesPerFeature */
      SELECT (SELECT coalesce(max(c), 0)::int FROM (SELECT count(*) AS c FROM lineage_edge GROUP BY child_sae_id, child_idx) p) AS parents,
             (SELECT coalesce(max(c), 0)::int FROM (SELECT count(*) AS c FROM lineage_edge GROUP BY parent_sae_id, parent_idx) c) AS children`);
  }
}
