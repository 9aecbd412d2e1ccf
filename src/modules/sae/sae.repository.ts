// SQL for models, families and SAEs. Only SAEs with status 'ready' are visible.
import { z } from "zod";
import type { Database } from "../../db/database.ts";

export const ModelRecord = z.object({ id: z.string(), name: z.string(), dModel: z.number().int() });
export type ModelRecord = z.infer<typeof ModelRecord>;
export const FamilyRecord = z.object({ id: z.string(), name: z.string(), modelId: z.string() });
export type FamilyRecord = z.infer<typeof FamilyRecord>;

export interface SaeRecord {
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
  neuronpediaId: string | null;
  status: string;
  contentHash: string | null;
  createdAt: Date;
}

const saeSelect = {
  id: true,
  name: true,
  modelId: true,
  familyId: true,
  hookName: true,
  layer: true,
  architecture: true,
  dIn: true,
  dSae: true,
  dtype: true,
  k: true,
  applyBDecToInput: true,
  neuronpediaId: true,
  status: true,
  contentHash: true,
  createdAt: true,
} as const;

export class SaeRepository {
  constructor(private readonly db: Database) {}

  async listModels(): Promise<ModelRecord[]> {
    return this.db.prisma.model.findMany({ select: { id: true, name: true, dModel: true }, orderBy: { id: "asc" } });
  }

  async modelsByIds(ids: readonly string[]): Promise<ModelRecord[]> {
    return this.db.prisma.model.findMany({ where: { id: { in: [...ids] } }, select: { id: true, name: true, dModel: true } });
  }

  async listFamilies(): Promise<FamilyRecord[]> {
    return this.db.prisma.saeFamily.findMany({ select: { id: true, name: true, modelId: true }, orderBy: { id: "asc" } });
  }

  async familiesByIds(ids: readonly string[]): Promise<FamilyRecord[]> {
    return this.db.prisma.saeFamily.findMany({ where: { id: { in: [...ids] } }, select: { id: true, name: true, modelId: true } });
  }

  async listSaes(filter: { familyId?: string | null; modelId?: string | null } = {}): Promise<SaeRecord[]> {
    return this.db.prisma.sae.findMany({
      where: {
        status: "ready",
        ...(filter.familyId ? { familyId: filter.familyId } : {}),
        ...(filter.modelId ? { modelId: filter.modelId } : {}),
      },
      select: saeSelect,
      orderBy: [{ modelId: "asc" }, { familyId: "asc" }, { dSae: "asc" }, { id: "asc" }],
    });
  }

  async saesByIds(ids: readonly string[]): Promise<SaeRecord[]> {
    return this.db.prisma.sae.findMany({ where: { id: { in: [...ids] }, status: "ready" }, select: saeSelect });
  }

  /** Any SAE row, including one still loading (for ingest and rm). */
  async findAnySae(id: string): Promise<SaeRecord | null> {
    return this.db.prisma.sae.findUnique({ where: { id }, select: saeSelect });
  }

  async featureCounts(saeIds: readonly string[]): Promise<Map<string, number>> {
    const rows = await this.db.prisma.feature.groupBy({ by: ["saeId"], where: { saeId: { in: [...saeIds] } }, _count: { _all: true } });
    return new Map(rows.map((r) => [r.saeId, r._count._all]));
  }
}
