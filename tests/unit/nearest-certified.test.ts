// The default (certified) scans against exact: true on the same matrix: identical top-k sets,
// order and cosines, on the queries where a fixed overfetch loses neighbours (random vectors,
// whose top cosines sit close together) and on near-duplicate clusters (many near-ties).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKernel, type Kernel } from "../../src/kernel/index.ts";
import { loadNativeScan } from "../../src/kernel/native-scan.ts";
import { type DecoderMatrix, decodeRows, decoderMatrixFromFloats } from "../../src/modules/geometry/decoder-matrix.ts";
import { type ScanStats, scanNearest } from "../../src/modules/geometry/nearest-scan.ts";
import { seededRandom } from "../../src/util/random.ts";

const D = 128;
const K = 10;

function gauss(r: () => number) {
  return Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
}

/** n unit rows: random directions, or clusters of `dup` rows within `spread` of a centre. */
function matrix(n: number, seed: number, dup: number, spread: number, native: boolean): DecoderMatrix {
  const r = seededRandom(seed);
  const data = new Float32Array(n * D);
  const centre = new Float32Array(D);
  for (let i = 0; i < n; i++) {
    if (i % dup === 0) for (let j = 0; j < D; j++) centre[j] = gauss(r);
    let s = 0;
    for (let j = 0; j < D; j++) s += (data[i * D + j] = centre[j] + spread * gauss(r)) ** 2;
    for (let j = 0; j < D; j++) data[i * D + j] /= Math.sqrt(s);
  }
  // Exact duplicates too: ties the answer must break by the lower index.
  if (dup > 1) for (let i = 5; i < n; i += 97) data.copyWithin(i * D, (i - 1) * D, i * D);
  const index = Int32Array.from({ length: n }, (_, i) => 2 * i);
  return decoderMatrixFromFloats("s", data, n, D, { index, native: native ? loadNativeScan() : null });
}

function randomQueries(count: number, seed: number): Float32Array {
  const r = seededRandom(seed);
  const q = new Float32Array(count * D);
  for (let c = 0; c < count; c++) {
    let s = 0;
    for (let j = 0; j < D; j++) s += (q[c * D + j] = gauss(r)) ** 2;
    for (let j = 0; j < D; j++) q[c * D + j] /= Math.sqrt(s);
  }
  return q;
}

describe("certified nearest scans equal exact: true", () => {
  let kernel: Kernel;
  beforeAll(async () => {
    kernel = await createKernel({ threads: 2 });
  });
  afterAll(async () => {
    await kernel.close();
  });

  const geometries = [
    { name: "random directions", dup: 1, spread: 0 },
    { name: "near-duplicate clusters", dup: 16, spread: 0.02 },
  ];
  const scans = [
    { name: "native 4-bit", native: true, qRows: 1 },
    { name: "int8", native: false, qRows: 1 },
    { name: "int8, a block of queries", native: true, qRows: 6 },
  ];
  for (const g of geometries) {
    for (const sc of scans) {
      it.skipIf(sc.native && sc.qRows === 1 && !loadNativeScan())(`${sc.name} scan, ${g.name}: recall@10 = 1.0 on every query`, async () => {
        const m = matrix(6000, 11, g.dup, g.spread, sc.native);
        const stats: ScanStats[] = [];
        for (let round = 0; round < 5; round++) {
          const q = randomQueries(sc.qRows, 100 + round);
          // Half the queries leave out a feature, as nearestFeatures does for the query feature.
          const exclude = Array.from({ length: sc.qRows }, (_, c) => (c % 2 ? { saeId: "s", index: m.index[(round * 37 + c) % m.rows] } : null));
          const want = await scanNearest(kernel, [m], q, sc.qRows, { k: K, exact: true, minCosine: null, exclude });
          const got = await scanNearest(kernel, [m], q, sc.qRows, { k: K, exact: false, minCosine: null, exclude, onStats: (s) => stats.push(s) });
          got.forEach((list, c) => {
            expect(list.map((n) => n.index)).toEqual(want[c].map((n) => n.index));
            list.forEach((n, t) => expect(n.cosine).toBeCloseTo(want[c][t].cosine, 5));
          });
        }
        expect(stats.length).toBeGreaterThanOrEqual(5);
        // The bound does work: at least the fixed overfetch, never more than the matrix.
        for (const s of stats) {
          expect(s.reranked).toBeGreaterThanOrEqual(K);
          expect(s.reranked).toBeLessThanOrEqual(m.rows);
        }
      });
    }
  }

  it.skipIf(!loadNativeScan())("re-ranks few rows when the query has clear neighbours", async () => {
    const m = matrix(6000, 3, 16, 0.3, true);
    const stats: ScanStats[] = [];
    const q = decodeRows(m, [100]);
    const [got] = await scanNearest(kernel, [m], q, 1, { k: K, exact: false, minCosine: null, onStats: (s) => stats.push(s) });
    const [want] = await scanNearest(kernel, [m], q, 1, { k: K, exact: true, minCosine: null });
    expect(got.map((n) => n.index)).toEqual(want.map((n) => n.index));
    expect(stats[0].reranked).toBeLessThan(m.rows / 10);
  });
});
