// Reciprocal-rank fusion (Cormack, Clarke & Buettcher 2009): each list votes
// 1 / (K + rank) for its items. Ranks, not scores, are fused, so a cosine and a
// ts_rank never need to share a scale. K = 60 is the value from the paper; it keeps
// the top of either list from drowning out agreement further down.
export const RRF_K = 60;

/**
 * The RRF constant for HYBRID. Smaller than the paper's 60, so a feature at the top of one
 * list is not overtaken by one that both lists hold lower down. Chosen on the tuning half
 * of tests/fixtures/search-eval.json only (HYBRID MRR@10 0.806 at 10 or 20, 0.789 at 30,
 * 0.787 at 60; hit@10 1.000 at each; a 5 fell back to 0.798); 20 is the larger of the two best.
 */
export const HYBRID_RRF_K = 20;

export interface Ranked {
  key: string;
}

export interface Fused<T> {
  key: string;
  score: number;
  /** The item as each list saw it (undefined where that list did not have it). */
  from: (T | undefined)[];
}

export function reciprocalRankFusion<T extends Ranked>(lists: readonly (readonly T[])[], k = RRF_K, weights?: readonly number[]): Fused<T>[] {
  const byKey = new Map<string, Fused<T> & { firstSeen: number }>();
  let seen = 0;
  lists.forEach((list, li) => {
    const w = weights?.[li] ?? 1;
    list.forEach((item, rank) => {
      let f = byKey.get(item.key);
      if (!f) {
        f = { key: item.key, score: 0, from: lists.map(() => undefined), firstSeen: seen++ };
        byKey.set(item.key, f);
      }
      if (f.from[li] !== undefined) return; // only an item's best rank in a list counts
      f.from[li] = item;
      f.score += w / (k + rank + 1);
    });
  });
  return [...byKey.values()]
    .sort((a, b) => b.score - a.score || a.firstSeen - b.firstSeen)
    .map(({ key, score, from }) => ({ key, score, from }));
}
