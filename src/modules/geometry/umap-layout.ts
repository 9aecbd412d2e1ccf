// A 2-D UMAP layout of unit decoder directions with umap-js, from an exact cosine kNN graph
// (computed by the caller with the matrix kernel: exact and far faster than umap-js's own
// nearest-neighbour descent in JavaScript). A seeded RNG makes the layout deterministic.
// umap-js loads when a map is computed, not with the geometry module every command builds.
import { seededRandom } from "../../util/random.ts";

export interface UmapParams {
  /** RNG seed (default 42): the same data and seed give the same map. */
  seed?: number;
  /** Neighbours per point in the fuzzy graph (default 15). */
  nNeighbors?: number;
  /** Minimum distance between embedded points (default 0.1). */
  minDist?: number;
  /** Optimisation epochs (default: umap-js's choice by size, 200-500). */
  nEpochs?: number;
}

export interface KnnGraph {
  n: number;
  /** Neighbours per row, the point itself first (distance 0). */
  k: number;
  indices: Int32Array;
  /** Cosine distances (1 - cosine), ascending per row. */
  distances: Float32Array;
}

/** Points per row of the layout: [x0, y0, x1, y1, ...]. Yields to the event loop between epochs. */
export async function umapLayout(graph: KnnGraph, params: UmapParams = {}, onEpoch?: (epoch: number, total: number) => void): Promise<Float32Array> {
  const { n, k } = graph;
  const knnIndices: number[][] = [];
  const knnDistances: number[][] = [];
  for (let i = 0; i < n; i++) {
    knnIndices.push(Array.from(graph.indices.subarray(i * k, (i + 1) * k)));
    knnDistances.push(Array.from(graph.distances.subarray(i * k, (i + 1) * k)));
  }
  const { UMAP } = await import("umap-js");
  const umap = new UMAP({
    nComponents: 2,
    nNeighbors: k,
    minDist: params.minDist ?? 0.1,
    nEpochs: params.nEpochs ?? 0,
    random: seededRandom(params.seed ?? 42),
  });
  umap.setPrecomputedKNN(knnIndices, knnDistances);
  // With a precomputed kNN graph umap-js only needs the number of points from X.
  const epochs = umap.initializeFit(Array.from({ length: n }, () => []));
  for (let e = 0; e < epochs; e++) {
    umap.step();
    if (e % 10 === 9) {
      onEpoch?.(e + 1, epochs);
      await new Promise((r) => setImmediate(r));
    }
  }
  const out = new Float32Array(2 * n);
  umap.getEmbedding().forEach((p, i) => {
    out[2 * i] = p[0]!;
    out[2 * i + 1] = p[1]!;
  });
  return out;
}
