// The default (certified) scans against exact: true on the same matrix: identical top-k sets,
// order and cosines, on the queries where a fixed overfetch loses neighbours (random vectors,
// whose top cosines sit close together) and on near-duplicate clusters (many near-ties).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKernel, type Kernel } from "../../src/kernel/index.ts";
import { loadNativeScan } from "../../src/kernel/native-scan.ts";
import { type DecoderMatrix, decodeRange, decodeRows, decoderMatrixFromFloats } from "../../src/modules/geometry/decoder-matrix.ts";
import { type ScanStats, scanNearest, topKBlocks } from "../../src/modules/geometry/nearest-scan.ts";
import { halfToFloatTable } from "../../src/shared/float16.ts";
import { seededRandom } from "../../src/util/random.ts";

const toFloat = (h: number) => halfToFloatTable()[h];

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
            // Bit for bit: both report rowCosines' (or exactTopK's, the same arithmetic) cosines.
            list.forEach((n, t) => expect(n.cosine).toBe(want[c][t].cosine));
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

  // Stored decoders are not unit vectors (an SAE's decoder norms vary, and float16 rounds them):
  // the matrix keeps the float16 values and 1/‖row‖, and every scan ranks by the cosine of the
  // stored direction. Rows of norms 0.01 to 100, zero rows (no direction: no row), and copies of
  // the previous row at 4x its norm (the same float16 direction exactly: ties, broken by the lower index).
  for (const sc of scans) {
    it.skipIf(sc.native && sc.qRows === 1 && !loadNativeScan())(`${sc.name} scan over float16 rows that are not unit-norm: the exact: true answer, bit for bit`, async () => {
      const n = 5000;
      const r = seededRandom(21);
      const data = new Float32Array(n * D);
      for (let i = 0; i < n; i++) {
        const scale = 10 ** (4 * r() - 2);
        if (i % 50 === 7) continue; // zero row
        if (i % 13 === 1) {
          for (let j = 0; j < D; j++) data[i * D + j] = data[(i - 1) * D + j] * 4;
          continue;
        }
        for (let j = 0; j < D; j++) data[i * D + j] = scale * gauss(r);
      }
      const index = Int32Array.from({ length: n }, (_, i) => 3 * i + 2);
      const m = decoderMatrixFromFloats("s", data, n, D, { index, native: sc.native ? loadNativeScan() : null });
      const zero = Array.from({ length: n }, (_, i) => i).filter((i) => i % 50 === 7 || (i % 13 === 1 && (i - 1) % 50 === 7));
      expect(m.rows).toBe(n - zero.length);
      for (const i of zero) expect(m.rowOf[3 * i + 2]).toBe(-1);
      // The float16 values are stored as they are; only the norm is factored out.
      expect(Math.abs(m.invNorm[0] - 1) > 1e-3 || Math.abs(m.invNorm[1] - 1) > 1e-3).toBe(true);
      for (let round = 0; round < 4; round++) {
        const q = randomQueries(sc.qRows, 300 + round);
        if (round === 0) q.set(decodeRows(m, [m.rowOf[3 * 13 + 2]]), 0); // a stored direction with a rescaled copy (row 14)
        const exclude = Array.from({ length: sc.qRows }, (_, c) => (c % 2 ? { saeId: "s", index: m.index[(round * 41 + c) % m.rows] } : null));
        const want = await scanNearest(kernel, [m], q, sc.qRows, { k: K, exact: true, minCosine: null, exclude });
        const got = await scanNearest(kernel, [m], q, sc.qRows, { k: K, exact: false, minCosine: null, exclude });
        got.forEach((list, c) => {
          expect(list.map((x) => x.index)).toEqual(want[c].map((x) => x.index));
          expect(list.map((x) => x.cosine)).toEqual(want[c].map((x) => x.cosine));
          // And they are cosines of the stored (float16) direction, whatever its norm.
          for (const x of list) {
            const row = m.rowOf[x.index];
            let dotv = 0;
            let n2 = 0;
            for (let j = 0; j < D; j++) {
              const v = toFloat(m.half[row * D + j]);
              dotv += v * q[c * D + j];
              n2 += v * v;
            }
            expect(x.cosine).toBeCloseTo(dotv / Math.sqrt(n2), 5);
          }
        });
        if (round === 0) {
          // The query's own row and its copy at 4x the norm: the same cosine, the lower index first.
          expect(want[0].slice(0, 2).map((x) => x.index)).toEqual([3 * 13 + 2, 3 * 14 + 2]);
          expect(want[0][1].cosine).toBe(want[0][0].cosine);
        }
      }
    });
  }

  it("exact: true over many decoded blocks gives the one-block answer, and topKBlocks bounds what it leaves out (one block or many)", async () => {
    const m = matrix(3000, 5, 16, 0.02, false);
    const q = randomQueries(5, 9);
    const exclude = [null, { saeId: "s", index: m.index[17] }, null, null, null];
    const one = await scanNearest(kernel, [m], q, 5, { k: K, exact: true, minCosine: null, exclude });
    for (const blockRows of [97, 1000, 2999]) {
      const many = await scanNearest(kernel, [m], q, 5, { k: K, exact: true, minCosine: null, exclude, blockRows });
      expect(many).toEqual(one);
    }
    const unit = decodeRange(m, 0, m.rows);
    const whole = await kernel.topKDot(q, 5, unit, m.rows, D, 12);
    for (const step of [113, m.rows]) {
      const r = await topKBlocks(kernel, m, q, 5, 12, undefined, step);
      expect(r.per).toBe(12);
      for (let c = 0; c < 5; c++) {
        const got = Array.from(r.indices.subarray(c * 12, (c + 1) * 12));
        expect(new Set(got).size).toBe(12);
        for (let t = 1; t < 12; t++) expect(r.values[c * 12 + t]).toBeLessThanOrEqual(r.values[c * 12 + t - 1]);
        // Same rows as one product over the whole matrix, up to rows tied within float32 rounding.
        for (let t = 0; t < 12; t++) expect(r.values[c * 12 + t]).toBeCloseTo(whole.values[c * 12 + t], 5);
        // Every row left out scores at most `beyond`, and beyond is at most the 12th kept score.
        const kept = new Set(got);
        let best = -Infinity;
        for (let row = 0; row < m.rows; row++) {
          if (kept.has(row)) continue;
          let s = 0;
          for (let j = 0; j < D; j++) s += q[c * D + j] * unit[row * D + j];
          best = Math.max(best, s);
        }
        expect(best).toBeLessThanOrEqual(r.beyond[c] + 1e-5);
        expect(r.beyond[c]).toBeLessThanOrEqual(r.values[c * 12 + 11]);
      }
    }
  });

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
