// A feature's identity: (SAE id, feature index). Maps and DataLoaders key features by the
// string "<saeId>:<index>", the same form the API shows as Feature.id.

export interface FeatureKey {
  saeId: string;
  index: number;
}

/** "<saeId>:<index>". */
export const featureKey = (k: FeatureKey): string => `${k.saeId}:${k.index}`;

/** The inverse of featureKey: SAE ids may contain ':', the index is after the last one. */
export function parseFeatureKey(key: string): FeatureKey | null {
  const at = key.lastIndexOf(":");
  if (at <= 0) return null;
  const index = Number(key.slice(at + 1));
  return Number.isInteger(index) && index >= 0 && key.slice(at + 1) !== "" ? { saeId: key.slice(0, at), index } : null;
}
