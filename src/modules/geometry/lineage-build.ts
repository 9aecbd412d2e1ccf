// Exact split lineage between two consecutive sizes of a family: every feature of the larger SAE
// finds its best parents in the smaller one by decoder cosine, through blocked float32 products
// on the native kernel (topKDot over the whole smaller matrix: exact, no index).
import type { Kernel } from "../../kernel/index.ts";
import type { DecoderMatrix } from "./decoder-matrix.ts";
import type { EdgeColumns } from "./lineage.repository.ts";

export interface LineageParams {
  /** A parent-child link counts for the split/origin kinds at or above this cosine. */
  threshold: number;
  /** Parents kept per child (those at or above the threshold, best first). */
  parentsPerChild: number;
}

/** The best parent is always stored when its cosine reaches this, whatever the threshold. */
export const ALWAYS_KEEP_BEST = 0.5;

export interface PairLineage {
  edges: EdgeColumns;
  /** Per row of the smaller SAE: children at or above the threshold. */
  childCount: Int32Array;
  /** Per row of the larger SAE: 1 when its best parent reaches the threshold. */
  inherited: Uint8Array;
}

export async function buildPairLineage(kernel: Kernel, small: DecoderMatrix, large: DecoderMatrix, p: LineageParams): Promise<PairLineage> {
  const d = small.d;
  // A few spare candidates in case rows without a decoder (zero, cosine 0) take slots.
  const fetch = Math.min(small.rows, p.parentsPerChild + (small.rows - small.presentCount > 0 ? 2 : 0));
  const top = await kernel.topKDot(large.data, large.rows, small.data, small.rows, d, fetch);
  const got = top.indices.length / Math.max(1, large.rows);
  const parentIdx: number[] = [];
  const childIdx: number[] = [];
  const cosine: number[] = [];
  const rank: number[] = [];
  const childCount = new Int32Array(small.rows);
  const inherited = new Uint8Array(large.rows);
  const keepBest = Math.min(p.threshold, ALWAYS_KEEP_BEST);
  for (let c = 0; c < large.rows; c++) {
    if (!large.present[c]) continue;
    let kept = 0;
    for (let t = 0; t < got && kept < p.parentsPerChild; t++) {
      const parent = top.indices[c * got + t];
      const cos = top.values[c * got + t];
      if (parent < 0 || !small.present[parent]) continue;
      const best = kept === 0;
      if (!(cos >= p.threshold || (best && cos >= keepBest))) break; // sorted: nothing further qualifies
      if (best && cos >= p.threshold) inherited[c] = 1;
      if (cos >= p.threshold) childCount[parent]++;
      parentIdx.push(parent);
      childIdx.push(c);
      cosine.push(cos);
      rank.push(kept);
      kept++;
    }
  }
  return {
    edges: {
      parentSaeId: small.saeId,
      childSaeId: large.saeId,
      parentIdx: Int32Array.from(parentIdx),
      childIdx: Int32Array.from(childIdx),
      cosine: Float32Array.from(cosine),
      rank: Int32Array.from(rank),
    },
    childCount,
    inherited,
  };
}

export type SplitKind = "STABLE" | "SPLIT" | "VANISHED" | "LARGEST";
export type OriginKind = "INHERITED" | "NOVEL" | "SMALLEST";

export const splitKindOf = (children: number): SplitKind => (children === 0 ? "VANISHED" : children === 1 ? "STABLE" : "SPLIT");
