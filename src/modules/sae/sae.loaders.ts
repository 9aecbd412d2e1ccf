// Per-request batching for SAE, model and family lookups.
import DataLoader from "dataloader";
import type { SaeService } from "./sae.service.ts";

const byId = <T extends { id: string }>(rows: T[], ids: readonly string[]) => {
  const m = new Map(rows.map((r) => [r.id, r]));
  return ids.map((id) => m.get(id) ?? null);
};

export function createSaeLoaders(sae: SaeService) {
  return {
    sae: new DataLoader(async (ids: readonly string[]) => byId(await sae.saesByIds(ids), ids)),
    model: new DataLoader(async (ids: readonly string[]) => byId(await sae.modelsByIds(ids), ids)),
    family: new DataLoader(async (ids: readonly string[]) => byId(await sae.familiesByIds(ids), ids)),
    featureCount: new DataLoader(async (ids: readonly string[]) => {
      const counts = await sae.featureCounts(ids);
      return ids.map((id) => counts.get(id) ?? 0);
    }),
  };
}
export type SaeLoaders = ReturnType<typeof createSaeLoaders>;
