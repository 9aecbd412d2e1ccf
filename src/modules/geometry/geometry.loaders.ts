// Per-request batching for Feature.neighbors: a page of features asking for neighbours with the
// same arguments costs one stored-list read (or one batched scan), not one per feature.
import { type FeatureKey, featureKey } from "../../shared/feature-key.ts";
import DataLoader from "dataloader";
import type { LineageService } from "./lineage.service.ts";
import type { NearestService, Neighbour } from "./nearest.service.ts";

export interface NeighborsKey {
  saeId: string;
  index: number;
  k: number;
  saeIds: readonly string[] | null;
}

const argsKey = (k: NeighborsKey) => `${k.k}|${k.saeIds ? [...k.saeIds].sort().join(",") : ""}`;


export function createGeometryLoaders(nearest: NearestService, lineage: LineageService) {
  return {
    parents: new DataLoader((keys: readonly FeatureKey[]) => lineage.parentsMany(keys), { cacheKeyFn: featureKey }),
    children: new DataLoader((keys: readonly FeatureKey[]) => lineage.childrenMany(keys), { cacheKeyFn: featureKey }),
    kinds: new DataLoader((keys: readonly FeatureKey[]) => lineage.kindsMany(keys), { cacheKeyFn: featureKey }),
    storedKinds: new DataLoader((keys: readonly FeatureKey[]) => lineage.storedKindsMany(keys), { cacheKeyFn: featureKey }),
    neighbors: new DataLoader<NeighborsKey, Neighbour[], string>(
      async (keys) => {
        const out: Neighbour[][] = new Array(keys.length);
        const groups = new Map<string, number[]>();
        keys.forEach((k, i) => groups.set(argsKey(k), [...(groups.get(argsKey(k)) ?? []), i]));
        for (const members of groups.values()) {
          const first = keys[members[0]];
          const lists = await nearest.nearestFeaturesMany(
            members.map((i) => ({ saeId: keys[i].saeId, index: keys[i].index })),
            { k: first.k, saeIds: first.saeIds },
          );
          members.forEach((i, r) => (out[i] = lists[r]));
        }
        return out;
      },
      { cacheKeyFn: (k) => `${featureKey(k)}|${argsKey(k)}` },
    ),
  };
}
export type GeometryLoaders = ReturnType<typeof createGeometryLoaders>;
