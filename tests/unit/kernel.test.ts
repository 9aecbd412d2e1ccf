import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKernel, gemmReference, type Kernel, topKDotReference } from "../../src/kernel/index.ts";
import { createOnnxKernel } from "../../src/kernel/onnx-kernel.ts";

import { seededRandom as random } from "../../src/util/random.ts";

// Deterministic pseudo-random floats so failures reproduce.
const matrix = (n: number, seed: number) => {
  const r = random(seed);
  return Float32Array.from({ length: n }, () => r() * 2 - 1);
};

function expectClose(actual: Float32Array, expected: Float32Array, k: number) {
  expect(actual.length).toBe(expected.length);
  const tol = 1e-5 * Math.max(1, Math.sqrt(k)) * 4;
  let worst = 0;
  for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  expect(worst).toBeLessThan(tol);
}

describe("native float32 kernel", () => {
  let kernel: Kernel;
  let blocked: Kernel;
  beforeAll(async () => {
    kernel = await createKernel({ backend: "native", threads: 2 });
    // Tiny blocks force the multi-block path and the cross-block merge.
    blocked = await createOnnxKernel({ threads: 2, scoreBudget: 64, maxQueryBlock: 3 });
  });
  afterAll(async () => {
    await kernel.close();
    await blocked.close();
  });

  it("runs natively", () => {
    expect(kernel.backend).toBe("onnxruntime");
  });

  const shapes: Array<[number, number, number]> = [
    [1, 1, 1],
    [7, 5, 3],
    [33, 17, 65],
    [64, 129, 31],
    [101, 1, 257],
  ];
  for (const transA of [false, true]) {
    for (const transB of [false, true]) {
      it(`gemm transA=${transA} transB=${transB} matches the reference on odd sizes`, async () => {
        for (const [m, n, k] of shapes) {
          const a = matrix(m * k, m * 31 + k);
          const b = matrix(k * n, n * 17 + k);
          const got = await kernel.gemm(a, b, m, n, k, { transA, transB });
          expectClose(got, gemmReference(a, b, m, n, k, { transA, transB }), k);
        }
      });
    }
  }

  it("gemm returns zeros for an empty inner dimension and rejects short inputs", async () => {
    expect(Array.from(await kernel.gemm(new Float32Array(0), new Float32Array(0), 2, 3, 0))).toEqual([0, 0, 0, 0, 0, 0]);
    await expect(kernel.gemm(new Float32Array(5), new Float32Array(6), 2, 3, 3)).rejects.toThrow(RangeError);
  });

  it("gemm accepts longer buffers and uses their leading elements", async () => {
    const a = matrix(20, 1);
    const b = matrix(20, 2);
    expectClose(await kernel.gemm(a, b, 2, 3, 3), gemmReference(a, b, 2, 3, 3), 3);
  });

  for (const [name, kern] of [
    ["single block", () => kernel],
    ["many blocks", () => blocked],
  ] as const) {
    it(`topKDot equals the exact reference (${name})`, async () => {
      for (const [qRows, mRows, d, k] of [
        [1, 50, 8, 5],
        [5, 97, 13, 10],
        [9, 40, 64, 1],
        [4, 6, 7, 10], // k > mRows: every row, best first
      ]) {
        const q = matrix(qRows * d, qRows + d);
        const m = matrix(mRows * d, mRows + d);
        const got = await kern().topKDot(q, qRows, m, mRows, d, k);
        const want = topKDotReference(q, qRows, m, mRows, d, k);
        expect(Array.from(got.indices)).toEqual(Array.from(want.indices));
        expectClose(got.values, want.values, d);
      }
    });
  }

  it("topKDot breaks ties by the lower row index across blocks", async () => {
    const d = 4;
    const m = new Float32Array(12 * d);
    for (let r = 0; r < 12; r++) m[r * d] = r % 4 === 1 ? 1 : 0.5; // rows 1, 5, 9 tie on top
    const q = Float32Array.of(1, 0, 0, 0);
    for (const kern of [kernel, blocked]) {
      const got = await kern.topKDot(q, 1, m, 12, d, 4);
      expect(Array.from(got.indices)).toEqual([1, 5, 9, 0]);
    }
  });

  it("the JavaScript fallback gives the same answers", async () => {
    const js = await createKernel({ backend: "js" });
    const q = matrix(3 * 16, 5);
    const m = matrix(40 * 16, 6);
    const a = await js.topKDot(q, 3, m, 40, 16, 4);
    const b = await kernel.topKDot(q, 3, m, 40, 16, 4);
    expect(Array.from(a.indices)).toEqual(Array.from(b.indices));
    expect(js.backend).toBe("js");
  });
});

describe("int8 quantised scan", () => {
  it("ranks like the exact scan on unit rows (after re-ranking) and matches the JS arithmetic", async () => {
    const { quantizeRows } = await import("../../src/kernel/quantize.ts");
    const { topKDotInt8Reference } = await import("../../src/kernel/js-kernel.ts");
    const kernel = await createKernel({ backend: "native" });
    const blocked = await createOnnxKernel({ threads: 2, scoreBudget: 200, maxQueryBlock: 2 });
    const d = 64;
    const rows = 300;
    const m = matrix(rows * d, 99);
    const q = matrix(5 * d, 98);
    const qm = quantizeRows(m, rows, d);
    const want = topKDotReference(q, 5, m, rows, d, 5);
    for (const kern of [kernel, blocked]) {
      const got = await kern.topKDotInt8(q, 5, qm, 40);
      const ref = topKDotInt8Reference(q, 5, qm, 40);
      expectClose(got.values, ref.values, d);
      for (let r = 0; r < 5; r++) {
        const cand = new Set(Array.from(got.indices.subarray(r * 40, r * 40 + 40)));
        for (const i of want.indices.subarray(r * 5, r * 5 + 5)) expect(cand.has(i)).toBe(true);
        // Approximate scores are close to the exact dot products.
        expect(Math.abs(got.values[r * 40] - want.values[r * 5])).toBeLessThan(0.05 * Math.abs(want.values[r * 5]) + 0.05);
      }
    }
    await kernel.close();
    await blocked.close();
  });
});
