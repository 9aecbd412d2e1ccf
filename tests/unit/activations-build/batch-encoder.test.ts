// The build's batched encoder gives encodeVector's answer (the encode module's encodeInMemory)
// for every row: standard, jumprelu and topk SAEs, through the GEMM and through the top-k scan.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BatchEncoder } from "../../../src/ingest/activations-build/batch-encoder.ts";
import { createKernel, type Kernel } from "../../../src/kernel/index.ts";
import { encodeInMemory, encodingRule, saeInput } from "../../../src/modules/encode/encoder-math.ts";
import { seededRandom } from "../../../src/util/random.ts";

let kernel: Kernel;
beforeAll(async () => void (kernel = await createKernel()));
afterAll(async () => kernel?.close());

function loaded(architecture: string, features: number, dIn: number, seed: number) {
  const r = seededRandom(seed);
  const sae = { id: "t", modelId: "m", hookName: "h", architecture, k: 5, dIn, dSae: features + 3, applyBDecToInput: true, bDec: Array.from({ length: dIn }, () => r() * 0.1), config: {}, version: "1", hasEncoder: true };
  const matrix = {
    dIn,
    // a gap in the indices: features without an encoder are not rows
    indices: Int32Array.from({ length: features }, (_, i) => (i < 10 ? i : i + 3)),
    weights: Float32Array.from({ length: features * dIn }, () => r() - 0.5),
    bEnc: Float32Array.from({ length: features }, () => (r() - 0.7) * 0.5),
    threshold: Float32Array.from({ length: features }, (_, i) => (i % 4 === 0 ? Number.NaN : r() * 0.5)),
  };
  const rule = encodingRule(sae);
  return { sae, matrix, rule, input: (x: ArrayLike<number>) => saeInput(x, sae) };
}

describe("BatchEncoder", () => {
  for (const [arch, scanFrom] of [["standard", undefined], ["jumprelu", undefined], ["topk", undefined], ["topk", 1]] as const) {
    it(`${arch}${scanFrom ? " (top-k scan)" : ""}: every row as encodeInMemory encodes it; zero rows fire nothing`, async () => {
      const enc = loaded(arch, 200, 12, 4);
      const b = new BatchEncoder(enc, kernel, { topkScanFrom: scanFrom });
      const r = seededRandom(9);
      const rows = 50;
      const x = Float32Array.from({ length: rows * 12 }, () => r() * 2 - 1);
      for (const z of [0, 7, 49]) x.fill(0, z * 12, (z + 1) * 12);
      const codes = await b.encode(x, rows);
      for (let t = 0; t < rows; t++) {
        const got = [];
        for (let e = codes.rowStart[t]!; e < codes.rowStart[t + 1]!; e++) got.push({ index: codes.feature[e]!, activation: codes.value[e]! });
        if ([0, 7, 49].includes(t)) {
          expect(got).toEqual([]);
          continue;
        }
        const want = encodeInMemory(enc.matrix, enc.input(x.subarray(t * 12, (t + 1) * 12)), enc.rule.limit(1e9), enc.rule.jump);
        expect(got.map((h) => h.index)).toEqual(want.map((h) => h.index));
        got.forEach((h, i) => expect(h.activation).toBeCloseTo(want[i]!.activation, 5));
        if (arch === "topk") expect(got.length).toBeLessThanOrEqual(5);
      }
    });
  }
});
