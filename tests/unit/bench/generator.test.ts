// The benchmark generator's promises: deterministic from its seed, random access (chunks equal
// the whole), the geometry it documents (nearest-neighbour cosines mostly 0.2-0.6, a few
// near-duplicates, low-norm rows) and planted lineage that exact best matches recover.
import { describe, expect, it } from "vitest";
import { decoderChunks, generateDecoders, planDecoders, planFamily, plantedLineage, unitRows } from "../../../scripts/bench/generator.ts";
import { parseSuiteOutput } from "../../../scripts/bench/run-output.ts";

/** For each row of `q`, the best dot product with a row of `m` (skipping index `skip[i]`) and its index. */
function bestMatch(q: Float32Array, nq: number, m: Float32Array, nm: number, d: number, skipSelf: boolean) {
  const best = new Float32Array(nq).fill(-2);
  const arg = new Int32Array(nq).fill(-1);
  for (let i = 0; i < nq; i++) {
    for (let j = 0; j < nm; j++) {
      if (skipSelf && i === j) continue;
      let s = 0;
      for (let t = 0; t < d; t++) s += q[i * d + t] * m[j * d + t];
      if (s > best[i]) (best[i] = s), (arg[i] = j);
    }
  }
  return { best, arg };
}

describe("SAE-like decoder generator", () => {
  it("is deterministic and random-access: chunks equal the whole set", () => {
    const plan = planDecoders({ n: 1500, d: 64, seed: 3 });
    const whole = generateDecoders(plan);
    expect(generateDecoders(planDecoders({ n: 1500, d: 64, seed: 3 }))).toEqual(whole);
    expect(generateDecoders(planDecoders({ n: 1500, d: 64, seed: 4 }))).not.toEqual(whole);
    for (const c of decoderChunks(plan, 400, 200, 1300)) {
      expect(Array.from(c.data)).toEqual(Array.from(whole.subarray(c.start * 64, (c.start + c.rows) * 64)));
    }
  });

  it("has neighbourhoods, near-duplicates and low-norm rows as documented", () => {
    const n = 1500;
    const d = 160;
    const { unit, norms } = unitRows(generateDecoders(planDecoders({ n, d, seed: 9 })), n, d);
    const { best } = bestMatch(unit, n, unit, n, d, true);
    const share = (lo: number, hi: number) => Array.from(best).filter((c) => c >= lo && c < hi).length / n;
    expect(share(0.2, 0.6)).toBeGreaterThan(0.6);
    expect(share(0.9, 2)).toBeGreaterThan(0.005);
    expect(share(0.9, 2)).toBeLessThan(0.05);
    const low = Array.from(norms).filter((x) => x < 0.1).length / n;
    expect(low).toBeGreaterThan(0.005);
    expect(low).toBeLessThan(0.05);
  });

  it("plants splits that exact best-match lineage recovers", () => {
    const d = 128;
    const [small, big] = planFamily({ sizes: [300, 1200], d, seed: 5 });
    const P = unitRows(generateDecoders(small), 300, d).unit;
    const C = unitRows(generateDecoders(big), 1200, d).unit;
    const truth = plantedLineage(big);
    const { arg } = bestMatch(C, 1200, P, 300, d, false);
    let inherited = 0;
    let recovered = 0;
    for (let i = 0; i < 1200; i++) {
      if (truth.parentOf[i] < 0) continue;
      inherited++;
      if (arg[i] === truth.parentOf[i]) recovered++;
    }
    expect(inherited / 1200).toBeGreaterThan(0.7);
    expect(recovered / inherited).toBeGreaterThan(0.97);
    expect(truth.kinds.filter((k) => k === "SPLIT").length).toBeGreaterThan(100);
  });
});

describe("bench orchestrator output parsing", () => {
  it("takes the whole stdout, or the last JSON document after other output", () => {
    expect(parseSuiteOutput('{"suite":"a","rows":[]}')).toEqual({ suite: "a", rows: [] });
    expect(parseSuiteOutput('noise\n{"x":1}\nmore\n{\n "suite": "b"\n}\n')).toEqual({ suite: "b" });
    expect(parseSuiteOutput("no json here")).toBeNull();
  });
});
