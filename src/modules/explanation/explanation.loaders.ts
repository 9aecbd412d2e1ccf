// Per-request batching: labels, explanations and scores for every feature a response
// touches in one statement each.
import { type FeatureKey, featureKey } from "../../shared/feature-key.ts";
import DataLoader from "dataloader";
import type { ExplanationRecord, ExplanationService, ScoreRecord } from "./explanation.service.ts";

const options = { cacheKeyFn: featureKey, maxBatchSize: 5000 };

export function createExplanationLoaders(explanations: ExplanationService) {
  return {
    /** The feature's label (best explanation) or null. */
    best: new DataLoader<FeatureKey, ExplanationRecord | null, string>(async (keys) => {
      const m = await explanations.bestByFeatures(keys);
      return keys.map((k) => m.get(featureKey(k)) ?? null);
    }, options),
    all: new DataLoader<FeatureKey, ExplanationRecord[], string>(async (keys) => {
      const m = await explanations.byFeatures(keys);
      return keys.map((k) => m.get(featureKey(k)) ?? []);
    }, options),
    scores: new DataLoader<string, ScoreRecord[]>(async (ids) => {
      const m = await explanations.scoresByExplanationIds(ids);
      return ids.map((id) => m.get(id) ?? []);
    }),
    labeledFraction: new DataLoader<string, number>(async (saeIds) => {
      const m = await explanations.labeledFractions(saeIds);
      return saeIds.map((id) => m.get(id) ?? 0);
    }),
  };
}
export type ExplanationLoaders = ReturnType<typeof createExplanationLoaders>;
