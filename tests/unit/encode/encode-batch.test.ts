// The batch encoder (one native top-k scan over [W_enc | b_enc]) against encodeInMemory row by
// row: the same features in the same order, values within float32 rounding, on random matrices
// with negative biases (some rows fire on nothing) and thresholds (jumprelu takes the row path).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createKernel, type Kernel } from "../../../src/kernel/index.ts";
import { encodeBatchInMemory, encodeInMemory, type EncoderMatrix } from "../../../src/modules/encode/encoder-math.ts";
import { rng } from "../../helpers/feature-seed.ts";

let kernel: Kernel;
beforeAll(async () => {
  kernel = await createKernel({ threads: 1 });
});
afterAll(async () => kernel?.close());

function matrix(n: number, dIn: number, seed: number, thresholds: boolean): EncoderMatrix {
  const r = rng(seed);
  return {
    dIn,
    indices: Int32Array.from({ length: n }, (_, i) => i * 3 + 1), // sparse indices: rows are not indices
    weights: Float32Array.from({ length: n * dIn }, () => r() - 0.5),
    bEnc: Float32Array.from({ length: n }, () => -r() * 1.5),
    threshold: Float32Array.from({ length: n }, () => (thresholds ? r() : Number.NaN)),
  };
}

describe("encodeBatchInMemory", () => {
  it("agrees with encodeInMemory row by row", async () => {
    const r = rng(7);
    for (const [n, dIn, rows] of [[500, 16, 9], [2048, 100, 33]] as const) {
      for (const jump of [false, true]) {
        const m = matrix(n, dIn, n + dIn, jump);
        const xs = Float32Array.from({ length: rows * dIn }, () => (r() - 0.5) * 0.6);
        for (const limit of [1, 5, 64]) {
          const got = await encodeBatchInMemory(m, xs, rows, limit, jump, kernel);
          expect(got).toHaveLength(rows);
          let fired = 0;
          for (let t = 0; t < rows; t++) {
            const want = encodeInMemory(m, Float64Array.from(xs.subarray(t * dIn, (t + 1) * dIn)), limit, jump);
            fired += want.length;
            expect(got[t]!.map((h) => h.index)).toEqual(want.map((h) => h.index));
            got[t]!.forEach((h, j) => expect(Math.abs(h.activation - want[j]!.activation)).toBeLessThan(1e-4));
          }
          expect(fired).toBeGreaterThan(0);
        }
      }
    }
  });

  it("gives a row on which nothing fires no features", async () => {
    const m = matrix(64, 8, 3, false);
    m.bEnc.fill(-100);
    const got = await encodeBatchInMemory(m, new Float32Array(2 * 8).fill(0.1), 2, 5, false, kernel);
    expect(got).toEqual([[], []]);
  });
});
