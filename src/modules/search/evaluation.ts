// Search quality on a judged query set: hit@k (some expected feature in the top k) and
// MRR@k (mean of 1 / rank of the first expected feature, 0 when none is in the top k).
import { featureKey } from "../../shared/feature-key.ts";
import type { ConceptHit, SearchMode } from "./search.service.ts";

export interface JudgedQuery {
  query: string;
  /** "saeId:index" of the features a reader judged relevant. */
  expected: string[];
}

export interface ModeQuality {
  mode: SearchMode;
  queries: number;
  hitAtK: number;
  mrrAtK: number;
  /** Queries whose top k held no expected feature. */
  misses: string[];
}

export async function evaluateSearch(
  search: (query: string, mode: SearchMode, k: number) => Promise<readonly ConceptHit[]>,
  queries: readonly JudgedQuery[],
  modes: readonly SearchMode[] = ["HYBRID", "SEMANTIC", "LEXICAL"],
  k = 10,
): Promise<Record<string, ModeQuality>> {
  const out: Record<string, ModeQuality> = {};
  for (const mode of modes) {
    let hits = 0;
    let rr = 0;
    const misses: string[] = [];
    for (const q of queries) {
      const expected = new Set(q.expected);
      const ranked = await search(q.query, mode, k);
      const rank = ranked.slice(0, k).findIndex((h) => expected.has(featureKey(h)));
      if (rank >= 0) {
        hits++;
        rr += 1 / (rank + 1);
      } else misses.push(q.query);
    }
    out[mode] = { mode, queries: queries.length, hitAtK: hits / queries.length, mrrAtK: rr / queries.length, misses };
  }
  return out;
}
