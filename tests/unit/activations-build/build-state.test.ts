// The streaming accumulators against a brute-force computation over every (feature, text):
// the demo build's top-example rule (scripts/demo-dataset/contexts.ts), densities and Pearson
// correlations with every hook dimension.
import { describe, expect, it } from "vitest";
import type { SparseCodes } from "../../../src/ingest/activations-build/batch-encoder.ts";
import { BuildState, type BuildParams } from "../../../src/ingest/activations-build/build-state.ts";
import { featureExamples, featureRow } from "../../../src/ingest/activations-build/select.ts";
import { seededRandom } from "../../../src/util/random.ts";

interface Text {
  tokens: string[];
  x: Float32Array;
  /** tokens x features, dense. */
  a: Float64Array;
}

const F = 12, D = 5;

/** Texts over a small vocabulary; a word's activations are fixed (as with word vectors), so ties and the per-word rule matter. */
function corpus(seed: number, n: number, vocab: number): Text[] {
  const rand = seededRandom(seed);
  const words = Array.from({ length: vocab }, (_, i) => `w${i}`);
  const wordAct = words.map(() => Float64Array.from({ length: F }, () => (rand() < 0.3 ? Math.fround(rand()) : 0)));
  const wordX = words.map(() => Float32Array.from({ length: D }, () => rand() - 0.5));
  return Array.from({ length: n }, () => {
    const len = 1 + Math.floor(rand() * 9);
    const ids = Array.from({ length: len }, () => Math.floor(rand() * vocab));
    const tokens = ids.map((w, i) => (i === 0 ? words[w]! : ` ${rand() < 0.2 ? words[w]!.toUpperCase() : words[w]!}`));
    const x = new Float32Array(len * D);
    const a = new Float64Array(len * F);
    ids.forEach((w, t) => {
      x.set(wordX[w]!, t * D);
      a.set(wordAct[w]!, t * F);
    });
    return { tokens, x, a };
  });
}

function codesOf(t: Text): SparseCodes {
  const rowStart = new Int32Array(t.tokens.length + 1);
  const feature: number[] = [], value: number[] = [];
  for (let r = 0; r < t.tokens.length; r++) {
    for (let j = 0; j < F; j++) if (t.a[r * F + j]! > 0) (feature.push(j), value.push(t.a[r * F + j]!));
    rowStart[r + 1] = feature.length;
  }
  return { rows: t.tokens.length, rowStart, feature: Int32Array.from(feature), value: Float32Array.from(value) };
}

/** The demo build's rule, over all texts at once. */
function bruteTop(texts: Text[], j: number, top: number, perWord: number): number[] {
  const hits: { ti: number; v: number; pos: number }[] = [];
  texts.forEach((t, ti) => {
    let v = 0, pos = -1;
    for (let r = 0; r < t.tokens.length; r++) if (t.a[r * F + j]! > v) (v = t.a[r * F + j]!), (pos = r);
    if (pos >= 0) hits.push({ ti, v, pos });
  });
  hits.sort((a, b) => b.v - a.v || texts[a.ti]!.tokens.length - texts[b.ti]!.tokens.length || a.ti - b.ti);
  const chosen = new Set<number>();
  const per = new Map<string, number>();
  for (const h of hits) {
    if (chosen.size >= top) break;
    const w = texts[h.ti]!.tokens[h.pos]!.trim().toLowerCase();
    if ((per.get(w) ?? 0) >= perWord) continue;
    per.set(w, (per.get(w) ?? 0) + 1);
    chosen.add(h.ti);
  }
  for (const h of hits) if (chosen.size < top) chosen.add(h.ti);
  return [...chosen];
}

function brutePearson(texts: Text[], j: number, d: number): number {
  const as: number[] = [], xs: number[] = [];
  for (const t of texts) for (let r = 0; r < t.tokens.length; r++) (as.push(t.a[r * F + j]!), xs.push(t.x[r * D + d]!));
  const n = as.length;
  const ma = as.reduce((s, v) => s + v, 0) / n, mx = xs.reduce((s, v) => s + v, 0) / n;
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < n; i++) (sab += (as[i]! - ma) * (xs[i]! - mx)), (saa += (as[i]! - ma) ** 2), (sbb += (xs[i]! - mx) ** 2);
  return sab / Math.sqrt(saa * sbb);
}

const params = (top: number): BuildParams => ({ top, perWord: 3, quantiles: 5, perQuantile: 2, reservoir: 64, window: 32, seed: 7 });

describe("activations build accumulators", () => {
  for (const [seed, n, vocab, top] of [[1, 400, 30, 20], [2, 150, 8, 20], [3, 1000, 200, 5]] as const) {
    it(`top examples, densities and correlations equal brute force (seed ${seed}, ${n} texts, ${vocab} words, top ${top})`, () => {
      const texts = corpus(seed, n, vocab);
      const s = new BuildState(F, D, params(top));
      for (const t of texts) s.observe(t.tokens, t.x, codesOf(t), 0);
      const tokens = texts.reduce((m, t) => m + t.tokens.length, 0);
      expect(s.tokens).toBe(tokens);
      for (let j = 0; j < F; j++) {
        const ex = featureExamples(s, j);
        expect(ex.filter((e) => e.kind === "top").map((e) => e.text)).toEqual(bruteTop(texts, j, top, 3));
        const fires = texts.reduce((m, t) => m + Array.from({ length: t.tokens.length }, (_, r) => t.a[r * F + j]! > 0).filter(Boolean).length, 0);
        const row = featureRow(s, j);
        expect(row.density).toBeCloseTo(fires / tokens, 12);
        if (fires === 0) {
          expect(row.neuronCorrIndex).toBeNull();
          continue;
        }
        const rs = Array.from({ length: D }, (_, d) => brutePearson(texts, j, d));
        const best = rs.reduce((b, r, d) => (Math.abs(r) > Math.abs(rs[b]!) ? d : b), 0);
        expect(row.neuronCorrIndex).toBe(best);
        expect(row.neuronCorrPearson).toBeCloseTo(Math.abs(rs[best]!), 9);
        expect(row.dashboard?.correlatedNeurons?.pearson[0]).toBeCloseTo(rs[best]!, 9);
        // quantile samples: never a top text, within the feature's texts, weakest bin first
        const q = ex.filter((e) => e.kind === "quantile");
        const topSet = new Set(ex.filter((e) => e.kind === "top").map((e) => e.text));
        for (const e of q) expect(topSet.has(e.text)).toBe(false);
        for (let i = 1; i < q.length; i++) expect(q[i]!.binMin!).toBeGreaterThanOrEqual(q[i - 1]!.binMin!);
      }
    });
  }
});

describe("activations build checkpoint", () => {
  it("a state saved half-way and restored into a fresh one ends exactly as an uninterrupted run", async () => {
    const { mkdtempSync, rmSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const { loadCheckpoint, saveCheckpoint } = await import("../../../src/ingest/activations-build/checkpoint.ts");
    const dir = mkdtempSync(join(tmpdir(), "monoscope-ckpt-"));
    try {
      const texts = corpus(5, 600, 40);
      const whole = new BuildState(F, D, params(20));
      for (const t of texts) whole.observe(t.tokens, t.x, codesOf(t), 0);
      const first = new BuildState(F, D, params(20));
      for (const t of texts.slice(0, 250)) first.observe(t.tokens, t.x, codesOf(t), 0);
      saveCheckpoint(join(dir, "c"), "k1", first);
      const resumed = new BuildState(F, D, params(20));
      expect(loadCheckpoint(join(dir, "c"), "other-key", resumed)).toBe(false);
      expect(loadCheckpoint(join(dir, "c"), "k1", resumed)).toBe(true);
      expect(resumed.texts).toBe(250);
      for (const t of texts.slice(250)) resumed.observe(t.tokens, t.x, codesOf(t), 0);
      for (let j = 0; j < F; j++) {
        expect(featureExamples(resumed, j)).toEqual(featureExamples(whole, j));
        expect(featureRow(resumed, j)).toEqual(featureRow(whole, j));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("activations build checkpoint lock", () => {
  it("refuses while another live process holds it, takes over one left by a dead process", async () => {
    const { mkdtempSync, rmSync, writeFileSync, existsSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const { claimCheckpoint } = await import("../../../src/ingest/activations-build/checkpoint.ts");
    const dir = mkdtempSync(join(tmpdir(), "monoscope-ckpt-lock-"));
    try {
      const path = join(dir, "sae.ckpt");
      writeFileSync(`${path}.lock`, String(process.ppid));
      expect(() => claimCheckpoint(path, "SAE x")).toThrow(`SAE x is being built by process ${process.ppid}`);
      writeFileSync(`${path}.lock`, "4194000"); // above any pid in use here
      const release = claimCheckpoint(path, "SAE x");
      expect(existsSync(`${path}.lock`)).toBe(true);
      release();
      expect(existsSync(`${path}.lock`)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
