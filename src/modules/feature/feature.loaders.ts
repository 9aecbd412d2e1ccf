// Per-request batching for feature reads: one statement per kind of data for all the
// features a response touches, however many there are.
import { type FeatureKey, featureKey } from "../../shared/feature-key.ts";
import DataLoader from "dataloader";
import { type ActivationKind, type ActivationRow, type FeatureDashboard, type FeaturePageData, type FeatureRow, type FeatureService, type PageRequest } from "./feature.service.ts";

const options = { cacheKeyFn: featureKey, maxBatchSize: 5000 };

export function createFeatureLoaders(features: FeatureService) {
  const activationLoaders = new Map<string, DataLoader<FeatureKey, ActivationRow[], string>>();
  const pageLoaders = new Map<string, DataLoader<FeatureKey, FeaturePageData | null, string>>();
  return {
    /**
     * The feature page in one statement: rows with the parts req names (from features.pageRequest);
     * one loader per request, so the root fields of one response that ask alike share a statement.
     */
    pages(req: PageRequest) {
      const id = JSON.stringify(req);
      let loader = pageLoaders.get(id);
      if (!loader) {
        loader = new DataLoader<FeatureKey, FeaturePageData | null, string>(async (keys) => {
          const m = await features.pagesByKeys(keys, req);
          return keys.map((k) => m.get(featureKey(k)) ?? null);
        }, options);
        pageLoaders.set(id, loader);
      }
      return loader;
    },
    /** The feature row, or null when it does not exist (or its SAE is not ready). Others may prime it. */
    feature: new DataLoader<FeatureKey, FeatureRow | null, string>(async (keys) => {
      const m = new Map((await features.featuresByKeys(keys)).map((r) => [featureKey(r), r]));
      return keys.map((k) => m.get(featureKey(k)) ?? null);
    }, options),
    decoder: new DataLoader<FeatureKey, Float32Array | null, string>(async (keys) => {
      const m = await features.decodersByKeys(keys);
      return keys.map((k) => m.get(featureKey(k)) ?? null);
    }, options),
    dashboard: new DataLoader<FeatureKey, FeatureDashboard | null, string>(async (keys) => {
      const m = await features.dashboardsByKeys(keys);
      return keys.map((k) => m.get(featureKey(k)) ?? null);
    }, options),
    /** Activation examples; one loader per (first, kinds) so each batch is one statement. */
    activations(first: number, kinds: readonly ActivationKind[]) {
      const id = `${first}|${[...kinds].sort().join(",")}`;
      let loader = activationLoaders.get(id);
      if (!loader) {
        loader = new DataLoader<FeatureKey, ActivationRow[], string>(async (keys) => {
          const byKey = new Map<string, ActivationRow[]>();
          for (const r of await features.activationsByKeys(keys, first, kinds)) {
            const k = featureKey(r);
            const list = byKey.get(k);
            if (list) list.push(r);
            else byKey.set(k, [r]);
          }
          return keys.map((k) => byKey.get(featureKey(k)) ?? []);
        }, options);
        activationLoaders.set(id, loader);
      }
      return loader;
    },
  };
}
export type FeatureLoaders = ReturnType<typeof createFeatureLoaders>;
