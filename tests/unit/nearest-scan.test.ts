// The candidate scans behind nearest features, each against brute force on the same matrix:
// the native 4-bit scan (single queries, where built), the int8 ONNX Runtime scan (the fallback
// for single queries, and blocks of queries) and the exhaustive float32 scan.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKernel, type Kernel } from "../../src/kernel/index.ts";
import { loadNativeScan } from "../../src/kernel/native-scan.ts";
import { type DecoderMatrix, decodeRange, decoderMatrixFromFloats } from "../../src/modules/geometry/decoder-matrix.ts";
import { type Neighbour, scanNearest } from "../../src/modules/geometry/nearest-scan.ts";
import { seededRandom } from "../../src/util/random.ts";

const N = 4000;
const D = 96;
const K = 10;

/** Unit rows in clusters of 8 around random centres (real neighbourhoods), feature index = 3·row + 1. */
function matrix(packed4: boolean): DecoderMatrix {
  const r = seededRandom(5);
  const data = new Float32Array(N * D);
  const centre = new Float32Array(D);
  for (let i = 0; i < N; i++) {
    if (i % 8 === 0) for (let j = 0; j < D; j++) centre[j] = r() * 2 - 1;
    let s = 0;
    for (let j = 0; j < D; j++) s += (data[i * D + j] = centre[j] + 0.9 * (r() * 2 - 1)) ** 2;
    for (let j = 0; j < D; j++) data[i * D + j] /= Math.sqrt(s);
  }
  const index = Int32Array.from({ length: N }, (_, i) => 3 * i + 1);
  const native = packed4 ? loadNativeScan() : null;
  const m = decoderMatrixFromFloats("s", data, N, D, { index, native });
  unitRows.set(m, decodeRange(m, 0, m.rows));
  return m;
}

/** Each matrix's unit rows as the scans see them (float16 values times 1/‖row‖). */
const unitRows = new Map<DecoderMatrix, Float32Array>();

function bruteForce(m: DecoderMatrix, q: Float32Array, c: number, exclude: number | null): Neighbour[] {
  const all: Neighbour[] = [];
  for (let i = 0; i < m.rows; i++) {
    if (m.index[i] === exclude) continue;
    let s = 0;
    for (let j = 0; j < D; j++) s += q[c * D + j] * unitRows.get(m)![i * D + j];
    all.push({ saeId: "s", index: m.index[i], cosine: s });
  }
  return all.sort((a, b) => b.cosine - a.cosine || a.index - b.index).slice(0, K);
}

describe("nearest scans against brute force", () => {
  let kernel: Kernel;
  beforeAll(async () => {
    kernel = await createKernel({ threads: 2 });
  });
  afterAll(async () => {
    await kernel.close();
  });

  const cases = [
    { name: "int8 scan, one query (the fallback where the native scan is not built)", packed4: false, qRows: 1, exact: false },
    { name: "int8 scan, a block of queries", packed4: true, qRows: 9, exact: false },
    { name: "native 4-bit scan, one query", packed4: true, qRows: 1, exact: false },
    { name: "native 4-bit scan, a few queries", packed4: true, qRows: 3, exact: false },
    { name: "exhaustive float32 scan", packed4: true, qRows: 4, exact: true },
  ];
  for (const c of cases) {
    it.skipIf(c.packed4 && !c.exact && c.qRows <= 4 && !loadNativeScan())(c.name, async () => {
      const m = matrix(c.packed4);
      expect(m.packed4 !== null).toBe(c.packed4 && loadNativeScan() !== null);
      const r = seededRandom(c.qRows * 31 + (c.exact ? 1 : 0));
      let hits = 0;
      let total = 0;
      for (let round = 0; round < 6; round++) {
        // Queries: stored rows (excluded from their own answer) plus a little noise.
        const rows = Array.from({ length: c.qRows }, () => Math.floor(r() * N));
        const q = new Float32Array(c.qRows * D);
        rows.forEach((row, i) => {
          let s = 0;
          for (let j = 0; j < D; j++) s += (q[i * D + j] = unitRows.get(m)![row * D + j] + 0.01 * (r() - 0.5)) ** 2;
          for (let j = 0; j < D; j++) q[i * D + j] /= Math.sqrt(s);
        });
        const exclude = rows.map((row) => ({ saeId: "s", index: m.index[row] }));
        const got = await scanNearest(kernel, [m], q, c.qRows, { k: K, exact: c.exact, minCosine: null, exclude });
        got.forEach((list, i) => {
          const want = bruteForce(m, q, i, m.index[rows[i]]);
          expect(list).toHaveLength(K);
          expect(list.some((n) => n.index === m.index[rows[i]])).toBe(false);
          for (let t = 1; t < list.length; t++) expect(list[t].cosine).toBeLessThanOrEqual(list[t - 1].cosine);
          // Cosines are exact whatever found the candidates.
          for (const n of list) {
            const row = m.rowOf[n.index];
            let s = 0;
            for (let j = 0; j < D; j++) s += q[i * D + j] * unitRows.get(m)![row * D + j];
            expect(n.cosine).toBeCloseTo(s, 5);
          }
          hits += list.filter((n) => want.some((w) => w.index === n.index)).length;
          total += K;
        });
      }
      expect(hits / total).toBeGreaterThanOrEqual(0.99);
    });
  }

  it("drops neighbours below minCosine", async () => {
    const m = matrix(true);
    const q = unitRows.get(m)!.slice(0, D);
    const [all] = await scanNearest(kernel, [m], q, 1, { k: K, exact: false, minCosine: null });
    const cut = all[4].cosine;
    const [kept] = await scanNearest(kernel, [m], q, 1, { k: K, exact: false, minCosine: cut });
    expect(kept.length).toBeGreaterThanOrEqual(5);
    expect(kept.length).toBeLessThan(K);
    expect(kept.every((n) => n.cosine >= cut)).toBe(true);
  });
});
