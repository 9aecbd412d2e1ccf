// SQL for text through a model: where an SAE reads (model, hook, width), and a feature's
// examples summarised by the source they came from.
import { z } from "zod";
import type { Database } from "../../db/database.ts";
import { firstRow, int8, parseRows } from "../../db/rows.ts";

export const SaeHookRow = z.object({
  id: z.string(),
  modelId: z.string(),
  hookName: z.string().nullable(),
  dIn: z.number().int(),
});
export type SaeHookRow = z.infer<typeof SaeHookRow>;

export const FeatureSourceRow = z.object({ source: z.string(), examples: int8, maxActivation: z.number() });
export type FeatureSourceRow = z.infer<typeof FeatureSourceRow>;

export class TextRepository {
  constructor(private readonly db: Database) {}

  async saeHook(saeId: string): Promise<SaeHookRow | null> {
    const rows = await this.db.sql`/* text.saeHook */
      SELECT id, model_id AS "modelId", hook_name AS "hookName", d_in AS "dIn" FROM sae WHERE id = ${saeId} AND status = 'ready'`;
    return firstRow(SaeHookRow, rows);
  }

  /** Per source: how many of the feature's examples came from it and their strongest activation; strongest first. */
  async featureSources(saeId: string, index: number): Promise<FeatureSourceRow[]> {
    const rows = await this.db.sql`/* text.featureSources */
      SELECT source, count(*) AS examples, max(max_value)::float8 AS "maxActivation"
      FROM activation WHERE sae_id = ${saeId} AND feature_idx = ${index} AND source IS NOT NULL
      GROUP BY source ORDER BY max(max_value) DESC, source`;
    return parseRows(FeatureSourceRow, rows);
  }
}
