// Exact split lineage between two consecutive sizes of a family: every feature of the larger SAE
// finds its best parents in the smaller one by decoder cosine, through blocked float32 products
// on the native kernel (topKDot over the whole smaller matrix, a decoded block of rows at a time
// on both sides: exact, no index).
import type { Kernel } from "../../kernel/index.ts";
import { blockRows, decodeRange, type DecoderMatrix } from "./decoder-matrix.ts";
import { topKBlocks } from "./nearest-scan.ts";
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
  /** Per row of the smaller matrix: children at or above the threshold. */
  childCount: Int32Array;
  /** Per row of the larger matrix: 1 when its best parent reaches the threshold. */
  inherited: Uint8Array;
}

/** Matrices hold only features with a decoder (row -> feature index via `index`). */
export async function buildPairLineage(kernel: Kernel, small: DecoderMatrix, large: DecoderMatrix, p: LineageParams): Promise<PairLineage> {
  const fetch = Math.min(small.rows, p.parentsPerChild);
  const childCount = new Int32Array(small.rows);
  const inherited = new Uint8Array(large.rows);
  const parentIdx: number[] = [];
  const childIdx: number[] = [];
  const cosine: number[] = [];
  const rank: number[] = [];
  if (fetch === 0 || large.rows === 0) return { edges: columns(small, large, parentIdx, childIdx, cosine, rank), childCount, inherited };
  const keepBest = Math.min(p.threshold, ALWAYS_KEEP_BEST);
  const step = blockRows(large.d);
  const qBuf = new Float32Array(Math.min(step, large.rows) * large.d);
  const mBuf = new Float32Array(Math.min(step, small.rows) * small.d);
  for (let c0 = 0; c0 < large.rows; c0 += step) {
    const n = Math.min(step, large.rows - c0);
    const q = decodeRange(large, c0, n, qBuf).subarray(0, n * large.d);
    const top = await topKBlocks(kernel, small, q, n, fetch, mBuf);
    for (let i = 0; i < n; i++) {
      const c = c0 + i;
      for (let t = 0; t < fetch; t++) {
        const row = top.indices[i * fetch + t];
        const cos = top.values[i * fetch + t];
        // Sorted best first: once one fails, the rest do too.
        if (!(cos >= p.threshold || (t === 0 && cos >= keepBest))) break;
        if (cos >= p.threshold) {
          childCount[row]++;
          if (t === 0) inherited[c] = 1;
        }
        parentIdx.push(small.index[row]);
        childIdx.push(large.index[c]);
        cosine.push(cos);
        rank.push(t);
      }
    }
  }
  return { edges: columns(small, large, parentIdx, childIdx, cosine, rank), childCount, inherited };
}

function columns(small: DecoderMatrix, large: DecoderMatrix, parentIdx: number[], childIdx: number[], cosine: number[], rank: number[]): EdgeColumns {
  return {
    parentSaeId: small.saeId,
    childSaeId: large.saeId,
    parentIdx: Int32Array.from(parentIdx),
    childIdx: Int32Array.from(childIdx),
    cosine: Float32Array.from(cosine),
    rank: Int32Array.from(rank),
  };
}

import type { OriginKind, SplitKind } from "./lineage.constants.ts";
export type { OriginKind, SplitKind };

export const splitKindOf = (children: number): SplitKind => (children === 0 ? "VANISHED" : children === 1 ? "STABLE" : "SPLIT");
