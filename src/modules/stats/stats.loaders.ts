// Per-request batching for statistics: one statement per kind of statistic (and per
// threshold) for every SAE or family a response touches.
import DataLoader from "dataloader";
import type { DensityHistogram, FamilyScalingRow, SaeBaseStats, StatsService } from "./stats.service.ts";

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

function perBins(stats: StatsService) {
  const loaders = new Map<number, DataLoader<string, DensityHistogram | null>>();
  return (bins: number) => {
    let l = loaders.get(bins);
    if (!l) {
      l = new DataLoader<string, DensityHistogram | null>(async (ids) => {
        const m = await stats.densityHistograms(ids, bins);
        return ids.map((id) => m.get(id) ?? null);
      });
      loaders.set(bins, l);
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
    densityHistogram: perBins(stats),
    scaling: new DataLoader<string, FamilyScalingRow[]>(async (ids) => {
      const m = await stats.scaling(ids);
      return ids.map((id) => m.get(id) ?? []);
    }),
  };
}
export type StatsLoaders = ReturnType<typeof createStatsLoaders>;
