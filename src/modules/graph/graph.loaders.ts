// Per-request batching for Feature.graphs: one statement for every feature a response asks about
// (per page size asked for).
import DataLoader from "dataloader";
import { type FeatureKey, featureKey } from "../../shared/feature-key.ts";
import type { AppearanceRow, GraphService } from "./graph.service.ts";

export function createGraphLoaders(graphs: GraphService) {
  const byFirst = new Map<number, DataLoader<FeatureKey, AppearanceRow[], string>>();
  return {
    appearances(first: number) {
      let l = byFirst.get(first);
      if (!l) {
        l = new DataLoader<FeatureKey, AppearanceRow[], string>(
          async (keys) => {
            const m = new Map<string, AppearanceRow[]>();
            for (const r of await graphs.appearancesOf(keys, first)) {
              const k = featureKey({ saeId: r.saeId, index: r.featureIdx });
              const list = m.get(k);
              if (list) list.push(r);
              else m.set(k, [r]);
            }
            return keys.map((k) => m.get(featureKey(k)) ?? []);
          },
          { cacheKeyFn: featureKey, maxBatchSize: 5000 },
        );
        byFirst.set(first, l);
      }
      return l;
    },
    /** Graph rows by slug, so many appearances of one graph read it once. */
    graph: new DataLoader<string, import("./graph.service.ts").GraphRecord | null>(async (slugs) => {
      const m = await graphs.bySlugs(slugs);
      return slugs.map((s) => m.get(s) ?? null);
    }),
  };
}
export type GraphLoaders = ReturnType<typeof createGraphLoaders>;
