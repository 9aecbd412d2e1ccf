// Per-request batching for lists: one statement for every list, every list's items and
// every feature's lists a response touches (per page size asked for).
import DataLoader from "dataloader";
import { type FeatureKey, featureKey } from "../../shared/feature-key.ts";
import type { ListItemRecord, ListRecord, ListService } from "./list.service.ts";

function perFirst<K, V, C = K>(make: (first: number) => DataLoader<K, V, C>) {
  const loaders = new Map<number, DataLoader<K, V, C>>();
  return (first: number) => {
    let l = loaders.get(first);
    if (!l) loaders.set(first, (l = make(first)));
    return l;
  };
}

export function createListLoaders(lists: ListService) {
  return {
    list: new DataLoader<string, ListRecord | null>(async (ids) => {
      const m = await lists.byIds(ids);
      return ids.map((id) => m.get(id) ?? null);
    }),
    items: perFirst(
      (first) =>
        new DataLoader<string, ListItemRecord[]>(async (ids) => {
          const m = await lists.itemsOf(ids, first);
          return ids.map((id) => m.get(id) ?? []);
        }),
    ),
    ofFeature: perFirst(
      (first) =>
        new DataLoader<FeatureKey, ListRecord[], string>(
          async (keys) => {
            const m = await lists.listsOf(keys, first);
            return keys.map((k) => m.get(featureKey(k)) ?? []);
          },
          { cacheKeyFn: featureKey, maxBatchSize: 5000 },
        ),
    ),
  };
}
export type ListLoaders = ReturnType<typeof createListLoaders>;
