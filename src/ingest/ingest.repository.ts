// Relational rows of the write path (model, family, SAE) through Prisma, and the
// set-based deletes that remove an SAE with everything hanging off it.
import { z } from "zod";
import type { Database } from "../db/database.ts";
import { Prisma } from "../generated/prisma/client.ts";

export interface SaeRow {
  id: string;
  modelId: string;
  familyId: string | null;
  status: string;
  contentHash: string | null;
  dIn: number;
  dSae: number;
  source: Record<string, unknown>;
  /** What merges added (source.imports), oldest first. */
  imports: ImportRecord[];
}

/** One merge recorded in sae.source.imports (more keys are kept as they are). */
const ImportRecord = z.looseObject({ contentHash: z.string().optional(), format: z.string().optional() });
export type ImportRecord = z.infer<typeof ImportRecord>;
const SourceJson = z.record(z.string(), z.unknown()).nullable();
const Imports = z.array(ImportRecord);

export interface NewSae {
  id: string;
  name: string;
  modelId: string;
  familyId: string | null;
  hookName: string | null;
  layer: number | null;
  architecture: string;
  dIn: number;
  dSae: number;
  dtype: string | null;
  k: number | null;
  applyBDecToInput: boolean;
  bDec: number[];
  neuronpediaId: string | null;
  contentHash: string;
  source: Record<string, unknown>;
  config: Record<string, unknown>;
}

/** Rows removed per table by deleteSae. */
export type DeletedCounts = Record<string, number>;

export class IngestRepository {
  constructor(private readonly db: Database) {}

  findModel(id: string) {
    return this.db.prisma.model.findUnique({ where: { id }, select: { id: true, dModel: true } });
  }

  findFamily(id: string) {
    return this.db.prisma.saeFamily.findUnique({ where: { id }, select: { id: true, modelId: true } });
  }

  async findSae(id: string): Promise<SaeRow | null> {
    const s = await this.db.prisma.sae.findUnique({
      where: { id },
      select: { id: true, modelId: true, familyId: true, status: true, contentHash: true, dIn: true, dSae: true, source: true },
    });
    if (!s) return null;
    const source = SourceJson.parse(s.source) ?? {};
    const imports = Imports.safeParse(source.imports);
    return { ...s, source, imports: imports.success ? imports.data : [] };
  }

  /** Creates what is missing and the SAE row in status 'loading' (invisible), in one transaction. */
  async createLoadingSae(
    model: { id: string; name: string; dModel: number } | null,
    family: { id: string; name: string; modelId: string } | null,
    sae: NewSae,
  ): Promise<void> {
    await this.db.prisma.$transaction(async (tx) => {
      if (model) await tx.model.create({ data: model });
      if (family) await tx.saeFamily.create({ data: family });
      await tx.sae.create({
        data: {
          ...sae,
          status: "loading",
          source: sae.source as Prisma.InputJsonValue,
          config: sae.config as Prisma.InputJsonValue,
        },
      });
    });
  }

  /** The flip that makes an SAE visible; its family's lineage must be rebuilt. */
  async markReady(id: string, familyId: string | null): Promise<void> {
    await this.db.prisma.$transaction(async (tx) => {
      const r = await tx.sae.updateMany({ where: { id, status: "loading" }, data: { status: "ready", updatedAt: new Date() } });
      if (r.count !== 1) throw new Error(`invariant failed: SAE ${id} was not loading at the end of its ingest`);
      if (familyId) await tx.saeFamily.update({ where: { id: familyId }, data: { lineageStale: true } });
    });
  }

  /** Planner statistics after a bulk load; the vector columns are skipped (slow to sample, never filtered on). */
  async analyze(tables: { features: boolean; activations: boolean }): Promise<void> {
    if (tables.features) await this.db.prisma.$executeRaw`/* ingest_analyze */ ANALYZE feature (sae_id, idx, density, max_activation, neuron_index)`;
    if (tables.activations) await this.db.prisma.$executeRaw`/* ingest_analyze */ ANALYZE activation (sae_id, feature_idx, kind)`;
  }

  /**
   * Deletes an SAE and everything that refers to it, table by table (set-based
   * deletes are much faster than row-by-row FK cascades), in one transaction.
   */
  async deleteSae(id: string): Promise<DeletedCounts | null> {
    return this.db.prisma.$transaction(
      async (tx) => {
        const sae = await tx.sae.findUnique({ where: { id }, select: { familyId: true } });
        if (!sae) return null;
        const counts: DeletedCounts = {};
        counts.explanation_score = await tx.$executeRaw`/* rm_explanation_score */
          DELETE FROM explanation_score s USING explanation e WHERE s.explanation_id = e.id AND e.sae_id = ${id}`;
        counts.explanation_embedding = await tx.$executeRaw`/* rm_explanation_embedding */
          DELETE FROM explanation_embedding m USING explanation e WHERE m.explanation_id = e.id AND e.sae_id = ${id}`;
        counts.explanation = await tx.$executeRaw`/* rm_explanation */ DELETE FROM explanation WHERE sae_id = ${id}`;
        counts.activation = await tx.$executeRaw`/* rm_activation */ DELETE FROM activation WHERE sae_id = ${id}`;
        counts.feature_dashboard = await tx.$executeRaw`/* rm_feature_dashboard */ DELETE FROM feature_dashboard WHERE sae_id = ${id}`;
        counts.lineage_edge = await tx.$executeRaw`/* rm_lineage_edge */
          DELETE FROM lineage_edge WHERE parent_sae_id = ${id} OR child_sae_id = ${id}`;
        counts.job = await tx.$executeRaw`/* rm_job */ DELETE FROM job WHERE sae_id = ${id}`;
        counts.feature = await tx.$executeRaw`/* rm_feature */ DELETE FROM feature WHERE sae_id = ${id}`;
        counts.sae = await tx.$executeRaw`/* rm_sae */ DELETE FROM sae WHERE id = ${id}`;
        if (sae.familyId) await tx.saeFamily.update({ where: { id: sae.familyId }, data: { lineageStale: true } });
        return counts;
      },
      { timeout: 3_600_000, maxWait: 60_000 },
    );
  }

  /** Removes a model/family this ingest created, when nothing else uses it (failed ingests change nothing). */
  async deleteUnused(modelId: string | null, familyId: string | null): Promise<void> {
    if (familyId) {
      const used = await this.db.prisma.sae.count({ where: { familyId } });
      if (!used) await this.db.prisma.saeFamily.deleteMany({ where: { id: familyId } });
    }
    if (modelId) {
      const used = (await this.db.prisma.sae.count({ where: { modelId } })) + (await this.db.prisma.saeFamily.count({ where: { modelId } }));
      if (!used) await this.db.prisma.model.deleteMany({ where: { id: modelId } });
    }
  }
}
