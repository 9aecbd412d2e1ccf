// SQL for models, families and SAEs. Only SAEs with status 'ready' are visible, except to
// saesByIds with deleting (an SAE being deleted keeps its rows for the grace period, for the
// requests that found it before the delete).
import { z } from "zod";
import { Prisma } from "../../generated/prisma/client.ts";
import type { Database } from "../../db/database.ts";

export const ModelRecord = z.object({ id: z.string(), name: z.string(), dModel: z.number().int() });
export type ModelRecord = z.infer<typeof ModelRecord>;
export const FamilyRecord = z.object({ id: z.string(), name: z.string(), modelId: z.string() });
export type FamilyRecord = z.infer<typeof FamilyRecord>;

export const SaeRecord = z.object({
  id: z.string(),
  name: z.string(),
  modelId: z.string(),
  familyId: z.string().nullable(),
  hookName: z.string().nullable(),
  layer: z.number().int().nullable(),
  architecture: z.string().nullable(),
  dIn: z.number().int(),
  dSae: z.number().int(),
  dtype: z.string().nullable(),
  k: z.number().int().nullable(),
  applyBDecToInput: z.boolean().nullable(),
  neuronpediaId: z.string().nullable(),
  status: z.string(),
  contentHash: z.string().nullable(),
  createdAt: z.date(),
});
export type SaeRecord = z.infer<typeof SaeRecord>;

const FeatureCountRow = z.object({ saeId: z.string(), n: z.number().int() });

// Read on every request that touches an SAE (the GraphQL loaders): plain SQL through the
// raw driver (Database.sql, prepared once per connection) rather than a Prisma query.
const SAE_COLUMNS = Prisma.sql`id, name, model_id AS "modelId", family_id AS "familyId", hook_name AS "hookName", layer,
  architecture, d_in AS "dIn", d_sae AS "dSae", dtype, k, apply_b_dec_to_input AS "applyBDecToInput",
  neuronpedia_id AS "neuronpediaId", status, content_hash AS "contentHash", created_at AS "createdAt"`;

export class SaeRepository {
  constructor(private readonly db: Database) {}

  async listModels(): Promise<ModelRecord[]> {
    return this.db.rows(ModelRecord)`/* sae.listModels */ SELECT id, name, d_model AS "dModel" FROM model ORDER BY id`;
  }

  async modelsByIds(ids: readonly string[]): Promise<ModelRecord[]> {
    return this.db.rows(ModelRecord)`/* sae.modelsByIds */ SELECT id, name, d_model AS "dModel" FROM model WHERE id = ANY(${[...ids]}::text[])`;
  }

  async listFamilies(): Promise<FamilyRecord[]> {
    return this.db.rows(FamilyRecord)`/* sae.listFamilies */ SELECT id, name, model_id AS "modelId" FROM sae_family ORDER BY id`;
  }

  async familiesByIds(ids: readonly string[]): Promise<FamilyRecord[]> {
    return this.db.rows(FamilyRecord)`/* sae.familiesByIds */ SELECT id, name, model_id AS "modelId" FROM sae_family WHERE id = ANY(${[...ids]}::text[])`;
  }

  async listSaes(filter: { familyId?: string | null; modelId?: string | null } = {}): Promise<SaeRecord[]> {
    return this.db.rows(SaeRecord)`/* sae.listSaes */ SELECT ${SAE_COLUMNS} FROM sae
      WHERE status = 'ready' AND (${filter.familyId ?? null}::text IS NULL OR family_id = ${filter.familyId ?? null}::text)
        AND (${filter.modelId ?? null}::text IS NULL OR model_id = ${filter.modelId ?? null}::text)
      ORDER BY model_id, family_id NULLS LAST, d_sae, id`;
  }

  async saesByIds(ids: readonly string[], o: { deleting?: boolean } = {}): Promise<SaeRecord[]> {
    if (o.deleting) {
      return this.db.rows(SaeRecord)`/* sae.heldSaesByIds */
        SELECT ${SAE_COLUMNS} FROM sae WHERE id = ANY(${[...ids]}::text[]) AND status IN ('ready', 'deleting')`;
    }
    return this.db.rows(SaeRecord)`/* sae.saesByIds */ SELECT ${SAE_COLUMNS} FROM sae WHERE id = ANY(${[...ids]}::text[]) AND status = 'ready'`;
  }

  /** Any SAE row, including one still loading (for ingest and rm). */
  async findAnySae(id: string): Promise<SaeRecord | null> {
    return (await this.db.rows(SaeRecord)`/* sae.findAnySae */ SELECT ${SAE_COLUMNS} FROM sae WHERE id = ${id}`)[0] ?? null;
  }

  async featureCounts(saeIds: readonly string[]): Promise<Map<string, number>> {
    const rows = await this.db.rows(FeatureCountRow)`/* sae.featureCounts */
      SELECT sae_id AS "saeId", count(*)::int AS n FROM feature WHERE sae_id = ANY(${[...saeIds]}::text[]) GROUP BY sae_id`;
    return new Map(rows.map((r) => [r.saeId, r.n]));
  }
}
