// Per-request batching for SAE, model and family lookups.
import DataLoader from "dataloader";
import type { SaeService } from "./sae.service.ts";

const byId = <T extends { id: string }>(rows: T[], ids: readonly string[]) => {
  const m = new Map(rows.map((r) => [r.id, r]));
  return ids.map((id) => m.get(id) ?? null);
};

export function createSaeLoaders(sae: SaeService) {
  return {
    /**
     * Ready SAEs and those being deleted (whose rows stay for the grace period): a parent this
     * request already holds resolves whole. Entry points (Query.sae) keep only status 'ready'.
     */
    sae: new DataLoader(async (ids: readonly string[]) => byId(await sae.heldSaesByIds(ids), ids)),
    model: new DataLoader(async (ids: readonly string[]) => byId(await sae.modelsByIds(ids), ids)),
    family: new DataLoader(async (ids: readonly string[]) => byId(await sae.familiesByIds(ids), ids)),
    featureCount: new DataLoader(async (ids: readonly string[]) => {
      const counts = await sae.featureCounts(ids);
      return ids.map((id) => counts.get(id) ?? 0);
    }),
  };
}
export type SaeLoaders = ReturnType<typeof createSaeLoaders>;
