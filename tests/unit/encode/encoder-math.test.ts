// The SAE input transform and activation rules, without a database.
import { describe, expect, it } from "vitest";
import { encodeInMemory, encodingRule, saeInput } from "../../../src/modules/encode/encoder-math.ts";

describe("saeInput", () => {
  const x = [3, -1, 4, 1, -5, 9];
  it("subtracts b_dec only when applied to the input", () => {
    const bDec = [1, 1, 1, 1, 1, 1];
    expect(Array.from(saeInput(x, { bDec, applyBDecToInput: true, config: {} }))).toEqual(x.map((v) => v - 1));
    expect(Array.from(saeInput(x, { bDec, applyBDecToInput: false, config: {} }))).toEqual(x);
    expect(Array.from(saeInput(x, { bDec: [], applyBDecToInput: true, config: {} }))).toEqual(x);
    // Unstated (null) with a b_dec to apply or not: refused rather than guessed; without one it does not matter.
    expect(() => saeInput(x, { id: "s", bDec, applyBDecToInput: null, config: {} })).toThrow(/without saying whether b_dec is subtracted/);
    expect(Array.from(saeInput(x, { bDec: null, applyBDecToInput: null, config: {} }))).toEqual(x);
  });
  it("rescales to norm sqrt(d_in) for constant_norm_rescale, before b_dec", () => {
    const out = saeInput(x, { bDec: null, applyBDecToInput: true, config: { normalize_activations: "constant_norm_rescale" } });
    expect(Math.hypot(...out)).toBeCloseTo(Math.sqrt(x.length), 10);
  });
  it("standardises for layer_norm (config under metadata too)", () => {
    const out = Array.from(saeInput(x, { bDec: null, applyBDecToInput: false, config: { metadata: { normalize_activations: "layer_norm" } } }));
    const mean = out.reduce((a, b) => a + b) / out.length;
    const sd = Math.sqrt(out.reduce((a, b) => a + (b - mean) ** 2, 0) / (out.length - 1));
    expect(mean).toBeCloseTo(0, 10);
    expect(sd).toBeCloseTo(1, 4);
  });
});

describe("encodingRule + encodeInMemory", () => {
  // Three features on d_in = 2: pre = [2, 0.5, -1] for x = [1, 0].
  const m = {
    dIn: 2,
    indices: Int32Array.from([10, 11, 12]),
    weights: Float32Array.from([2, 0, 0.5, 0, -1, 0]),
    bEnc: new Float32Array(3),
    threshold: Float32Array.from([1, 1, Number.NaN]),
  };
  const x = Float64Array.from([1, 0]);
  it("standard keeps every positive pre-activation, strongest first", () => {
    const r = encodingRule({ id: "s", architecture: "standard", k: null });
    expect(encodeInMemory(m, x, r.limit(10), r.jump)).toEqual([{ index: 10, activation: 2 }, { index: 11, activation: 0.5 }]);
  });
  it("topk caps at the SAE's k", () => {
    const r = encodingRule({ id: "s", architecture: "topk", k: 1 });
    expect(encodeInMemory(m, x, r.limit(10), r.jump)).toEqual([{ index: 10, activation: 2 }]);
  });
  it("jumprelu drops features at or below their threshold", () => {
    const r = encodingRule({ id: "s", architecture: "jumprelu", k: null });
    expect(encodeInMemory(m, x, r.limit(10), r.jump)).toEqual([{ index: 10, activation: 2 }]);
  });
  it("refuses architectures it cannot run", () => {
    expect(() => encodingRule({ id: "s", architecture: "gated", k: null })).toThrow(/supports standard, topk and jumprelu/);
    expect(() => encodingRule({ id: "s", architecture: "topk", k: null })).toThrow(/without k/);
    // SAEDashboard batches do not state an architecture; encoding must not guess one.
    expect(() => encodingRule({ id: "s", architecture: null, k: null })).toThrow(/imported without its architecture/);
  });
});
