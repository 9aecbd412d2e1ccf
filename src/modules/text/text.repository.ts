// SQL for text through a model: a feature's examples summarised by the source they came from.
import { z } from "zod";
import type { Database } from "../../db/database.ts";
import { int8, parseRows } from "../../db/rows.ts";

export const FeatureSourceRow = z.object({ source: z.string(), examples: int8, maxActivation: z.number() });
export type FeatureSourceRow = z.infer<typeof FeatureSourceRow>;

export class TextRepository {
  constructor(private readonly db: Database) {}

  /** Per source: how many of the feature's examples came from it and their strongest activation; strongest first. */
  async featureSources(saeId: string, index: number, first: number): Promise<FeatureSourceRow[]> {
    const rows = await this.db.sql`/* text.featureSources */
      SELECT source, count(*) AS examples, max(max_value)::float8 AS "maxActivation"
      FROM activation WHERE sae_id = ${saeId} AND feature_idx = ${index} AND source IS NOT NULL
      GROUP BY source ORDER BY max(max_value) DESC, source LIMIT ${first}`;
    return parseRows(FeatureSourceRow, rows);
  }
}
