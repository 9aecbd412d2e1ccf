// The IVF neighbour-list build's two passes on small matrices, against brute force:
//   - ivfNeighbours, cluster by cluster (one product per probed cluster): probing every cluster
//     gives the exact top-k (the two-round bound skip must never drop a list member), and every
//     cosine is the float32 dot product of its pair;
//   - joinAll, pivot by pivot: no row gets a worse list, lists hold no repeats and never the row
//     itself, cosines are exact, and lists that are already exact stay exact.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKernel, type Kernel } from "../../src/kernel/index.ts";
import { type DecoderMatrix, decodeRange, decoderMatrixFromFloats } from "../../src/modules/geometry/decoder-matrix.ts";
import { buildIvf, ivfNeighbours } from "../../src/modules/geometry/ivf-neighbours.ts";
import { joinAll } from "../../src/modules/geometry/neighbour-join.ts";
import { seededRandom } from "../../src/util/random.ts";

const N = 1500;
const D = 48;
const K = 16;
let kernel: Kernel;
let m: DecoderMatrix;

/** Unit rows in loose groups (shared directions plus noise), so clusters and neighbourhoods exist. */
function matrix(noise: number): DecoderMatrix {
  const r = seededRandom(5);
  const centres = Array.from({ length: 40 }, () => Float32Array.from({ length: D }, () => r() * 2 - 1));
  const data = new Float32Array(N * D);
  for (let i = 0; i < N; i++) {
    const c = centres[Math.floor(r() * centres.length)];
    let norm = 0;
    for (let j = 0; j < D; j++) {
      const v = c[j] + noise * (r() * 2 - 1);
      data[i * D + j] = v;
      norm += v * v;
    }
    for (let j = 0; j < D; j++) data[i * D + j] /= Math.sqrt(norm);
  }
  const index = Int32Array.from({ length: N }, (_, i) => i);
  return decoderMatrixFromFloats("t", data, N, D, { index });
}

/** The matrix's unit rows (float16 values times 1/‖row‖), for the brute-force answers. */
let unit: Float32Array;

const dot = (a: number, b: number) => {
  let s = 0;
  for (let j = 0; j < D; j++) s += unit[a * D + j] * unit[b * D + j];
  return s;
};

/** Exact top-k of row x by cosine, leaving x out, ties to the lower row. */
function brute(x: number): number[] {
  return Array.from({ length: N }, (_, y) => y)
    .filter((y) => y !== x)
    .map((y) => [dot(x, y), y] as const)
    .sort((a, b) => b[0] - a[0] || a[1] - b[1])
    .slice(0, K)
    .map(([, y]) => y);
}

function checkLists(rows: Int32Array, cosines: Float32Array, queries: ArrayLike<number>) {
  for (let i = 0; i < queries.length; i++) {
    const x = queries[i];
    const list = Array.from(rows.subarray(i * K, (i + 1) * K));
    expect(list).not.toContain(x);
    expect(new Set(list).size).toBe(K);
    for (let t = 0; t < K; t++) {
      expect(cosines[i * K + t]).toBeCloseTo(dot(x, list[t]), 5);
      if (t > 0) expect(cosines[i * K + t]).toBeLessThanOrEqual(cosines[i * K + t - 1]);
    }
  }
}

beforeAll(async () => {
  kernel = await createKernel({ threads: 2 });
  m = matrix(1.2);
  unit = decodeRange(m, 0, m.rows);
});
afterAll(async () => kernel?.close());

describe("ivfNeighbours (cluster by cluster)", () => {
  it("probing every cluster gives the exact top-k with exact cosines", async () => {
    // Tight groups, one cluster each: the bounds rule most clusters out.
    const loose = m;
    m = matrix(0.3);
    unit = decodeRange(m, 0, m.rows);
    const ivf = await buildIvf(kernel, m, { nlist: 40 });
    const queries = Int32Array.from({ length: 300 }, (_, i) => (i * 7) % N);
    const stats = { probed: 0, candidates: 0 };
    const r = await ivfNeighbours(kernel, m, ivf, queries, K, ivf.nlist, stats);
    checkLists(r.rows, r.cosines, queries);
    let same = 0;
    queries.forEach((x, i) => {
      const want = brute(x);
      const got = Array.from(r.rows.subarray(i * K, (i + 1) * K));
      // Equal cosines may differ in the last float32 bit between summation orders: compare sets of rows.
      same += want.filter((y) => got.includes(y)).length;
    });
    expect(same).toBe(queries.length * K);
    // The bound skipped some clusters (else the test proves nothing about the skip).
    expect(stats.probed).toBeLessThan(queries.length * ivf.nlist);
    m = loose;
    unit = decodeRange(m, 0, m.rows);
  });

  it("a few probes give full lists of exact cosines", async () => {
    const ivf = await buildIvf(kernel, m, { nlist: 60 });
    const queries = Int32Array.from({ length: N }, (_, i) => i);
    const r = await ivfNeighbours(kernel, m, ivf, queries, K, 2);
    checkLists(r.rows, r.cosines, queries);
  });
});

describe("joinAll (pivot by pivot)", () => {
  it("never makes a list worse, and improves approximate lists", async () => {
    const ivf = await buildIvf(kernel, m, { nlist: 60 });
    const all = Int32Array.from({ length: N }, (_, i) => i);
    const first = await ivfNeighbours(kernel, m, ivf, all, K, 1);
    const pivots: number[] = [];
    const r = await joinAll(kernel, m, first.rows, K, { chunk: 500, onPivots: (d) => void pivots.push(d) });
    checkLists(r.rows, r.cosines, all);
    expect(pivots).toEqual([500, 1000, 1500]);
    let better = 0;
    for (let x = 0; x < N; x++) {
      // The k-th cosine never drops.
      expect(r.cosines[x * K + K - 1]).toBeGreaterThanOrEqual(first.cosines[x * K + K - 1] - 1e-6);
      if (r.cosines[x * K + K - 1] > first.cosines[x * K + K - 1] + 1e-6) better++;
    }
    expect(better).toBeGreaterThan(N / 10);
    // Recall against brute force rises.
    const recall = (rows: Int32Array) => {
      let hit = 0;
      for (let x = 0; x < N; x += 10) {
        const got = new Set(rows.subarray(x * K, (x + 1) * K));
        hit += brute(x).filter((y) => got.has(y)).length;
      }
      return hit / ((N / 10) * K);
    };
    expect(recall(r.rows)).toBeGreaterThan(recall(first.rows));
  });

  it("exact lists stay exact", async () => {
    const exact = new Int32Array(N * K);
    for (let x = 0; x < N; x++) exact.set(brute(x), x * K);
    const r = await joinAll(kernel, m, exact, K);
    for (let x = 0; x < N; x += 3) expect(new Set(r.rows.subarray(x * K, (x + 1) * K))).toEqual(new Set(exact.subarray(x * K, (x + 1) * K)));
  });
});
