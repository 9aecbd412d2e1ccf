// Per-request batching for statistics: one statement per kind of statistic (and per
// threshold) for every SAE or family a response touches.
import DataLoader from "dataloader";
import type { FamilyScalingRow, SaeBaseStats, StatsService } from "./stats.service.ts";

type FractionFn = (ids: readonly string[], threshold: number) => Promise<Map<string, number | null>>;

function perThreshold(fn: FractionFn) {
  const loaders = new Map<number, DataLoader<string, number | null>>();
  return (threshold: number) => {
    let l = loaders.get(threshold);
    if (!l) {
      l = new DataLoader<string, number | null>(async (ids) => {
        const m = await fn(ids, threshold);
        return ids.map((id) => m.get(id) ?? null);
      });
      loaders.set(threshold, l);
    }
    return l;
  };
}

export function createStatsLoaders(stats: StatsService) {
  return {
    base: new DataLoader<string, SaeBaseStats>(async (ids) => {
      const m = await stats.baseStats(ids);
      return ids.map((id) => m.get(id) ?? { deadFraction: null, medianDensity: null });
    }),
    neuronAligned: perThreshold((ids, t) => stats.neuronAlignedFractions(ids, t)),
    neuronCorrelated: perThreshold((ids, t) => stats.neuronCorrelatedFractions(ids, t)),
    scaling: new DataLoader<string, FamilyScalingRow[]>(async (ids) => {
      const m = await stats.scaling(ids);
      return ids.map((id) => m.get(id) ?? []);
    }),
  };
}
export type StatsLoaders = ReturnType<typeof createStatsLoaders>;
