// `activations build` end to end on a small corpus, both backends: a toy SAE ingested from a
// SAELens checkpoint, a tiny in-test activation source (a fixed vector per word), and a
// brute-force float64 computation from the checkpoint's own weights (not src/'s encoder):
// the stored top examples, densities and correlated neurons equal it.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildActivations, type BuildHook, type BuildSource } from "../../../src/ingest/activations-build/activations-build.ts";
import { importSaelens } from "../../../src/ingest/saelens/import-saelens.ts";
import { createKernel, type Kernel } from "../../../src/kernel/index.ts";
import { silentLogger } from "../../../src/logger.ts";
import { seededRandom } from "../../../src/util/random.ts";
import { openTestApp, type TestApp } from "../../helpers/backend.ts";
import { rawQuery } from "../../helpers/row-counts.ts";
import { weightValue, writeCheckpoint } from "../../helpers/saelens-fixture.ts";

const dIn = 6, dSae = 24, seed = 3;
const dir = mkdtempSync(join(tmpdir(), "monoscope-abuild-"));
let t: TestApp;
let kernel: Kernel;

/** A word's vector: fixed pseudo-random; "the" is out of vocabulary (a zero row). */
function wordVector(w: string): Float64Array {
  if (w === "the") return new Float64Array(dIn);
  let h = 0;
  for (const c of w.toLowerCase()) h = (Math.imul(h, 31) + c.charCodeAt(0)) >>> 0;
  const r = seededRandom(h);
  return Float64Array.from({ length: dIn }, () => Math.fround(r() * 2 - 1));
}
const tokenize = (text: string) => text.match(/\s*\S+/g) ?? [];

const source: BuildSource = {
  name: "toy-words",
  async activate(text: string, hook: BuildHook) {
    const tokens = tokenize(text);
    const vectors = new Float32Array(tokens.length * hook.dIn);
    tokens.forEach((tok, i) => vectors.set(wordVector(tok.trim()), i * hook.dIn));
    return { tokens, vectors, dIn: hook.dIn };
  },
};

/** Float64 SAE from the checkpoint's values: standard ReLU, x - b_dec, W_enc [dIn, dSae]. */
function bruteActs(tok: string): Float64Array {
  const x = wordVector(tok.trim());
  const out = new Float64Array(dSae);
  if (x.every((v) => v === 0)) return out;
  for (let j = 0; j < dSae; j++) {
    let s = Math.fround(-0.01 * (j % 7));
    for (let d = 0; d < dIn; d++) s += (x[d]! - Math.fround(0.001 * d)) * Math.fround(weightValue(seed, "W_enc", d * dSae + j));
    out[j] = Math.max(0, s);
  }
  return out;
}

function corpusTexts(n: number): { text: string; source: string }[] {
  const r = seededRandom(99);
  const words = ["the", ...Array.from({ length: 30 }, (_, i) => `word${i}`)];
  return Array.from({ length: n }, (_, i) => {
    const len = 1 + Math.floor(r() * 40);
    const text = Array.from({ length: len }, () => words[Math.floor(r() * words.length)]!).join(" ");
    return { text, source: i % 3 === 0 ? "prose" : "code" };
  });
}

beforeAll(async () => {
  t = await openTestApp();
  kernel = await createKernel();
  const ck = join(dir, "ck");
  await writeCheckpoint(ck, { dIn, dSae, seed, architecture: "standard" });
  await importSaelens(t.app.services.ingest, { dir: ck, saeId: "toy-build" });
});
afterAll(async () => {
  await kernel?.close();
  await t?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("activations build", () => {
  it("stores top examples, densities and correlated neurons equal to a brute-force computation", async () => {
    const texts = corpusTexts(300);
    const corpus = join(dir, "corpus.jsonl");
    writeFileSync(corpus, texts.map((x) => JSON.stringify(x)).join("\n") + "\n\n");
    const hook = { modelName: "toy-model", hookName: "blocks.3.hook_resid_post", dIn };
    const run = () =>
      buildActivations({ ingest: t.app.services.ingest, encode: t.app.services.encode, kernel }, { saeId: "toy-build", corpus, source, hook, checkpointDir: join(dir, "ckpt"), log: silentLogger, top: 10, quantiles: 3 });
    const s = await run();
    const toks = texts.map((x) => tokenize(x.text));
    const N = toks.reduce((n, x) => n + x.length, 0);
    expect(s).toMatchObject({ outcome: "merged", texts: 300, tokens: N, features: dSae });

    const acts = toks.map((x) => x.map(bruteActs));
    const feats = await rawQuery<{ idx: number; density: number; neuron_corr_index: number | null; neuron_corr_pearson: number | null }>(
      t.app.db, "SELECT idx, density, neuron_corr_index, neuron_corr_pearson FROM feature WHERE sae_id = 'toy-build' ORDER BY idx");
    const ex = await rawQuery<{ feature_idx: number; ordinal: number; kind: string; source: string; tokens: string[]; values: number[] }>(
      t.app.db, "SELECT feature_idx, ordinal, kind, source, tokens, values FROM activation WHERE sae_id = 'toy-build' ORDER BY feature_idx, ordinal");
    let checkedCorr = 0;
    for (let j = 0; j < dSae; j++) {
      // density: firing tokens over all tokens
      const fires = acts.flat().filter((a) => a[j]! > 0).length;
      expect(feats[j]!.density).toBeCloseTo(fires / N, 10);
      // top texts by the demo's rule: max desc, shorter first, corpus order; at most 3 per max word
      const hits = acts.flatMap((a, ti) => {
        let v = 0, pos = -1;
        a.forEach((row, p) => { if (row[j]! > v) (v = row[j]!), (pos = p); });
        return pos < 0 ? [] : [{ ti, v, pos }];
      }).sort((a, b) => b.v - a.v || toks[a.ti]!.length - toks[b.ti]!.length || a.ti - b.ti);
      const chosen: number[] = [];
      const per = new Map<string, number>();
      for (const h of hits) {
        if (chosen.length >= 10) break;
        const w = toks[h.ti]![h.pos]!.trim();
        if ((per.get(w) ?? 0) >= 3) continue;
        per.set(w, (per.get(w) ?? 0) + 1);
        chosen.push(h.ti);
      }
      for (const h of hits) if (chosen.length < 10 && !chosen.includes(h.ti)) chosen.push(h.ti);
      const top = ex.filter((e) => e.feature_idx === j && e.kind === "top");
      expect(top.length).toBe(chosen.length);
      top.forEach((e, i) => {
        const ti = chosen[i]!;
        const h = hits.find((x) => x.ti === ti)!;
        const start = Math.max(0, Math.min(h.pos - 16, toks[ti]!.length - 32));
        const window = toks[ti]!.slice(start, start + 32);
        window[0] = window[0]!.trimStart();
        expect(e.tokens).toEqual(window);
        expect(e.source).toBe(texts[ti]!.source);
        e.values.forEach((v, p) => expect(v).toBeCloseTo(acts[ti]![start + p]![j]!, 5));
      });
      const quantile = ex.filter((e) => e.feature_idx === j && e.kind === "quantile");
      expect(quantile.length).toBeLessThanOrEqual(6);
      if (hits.length > 10) expect(quantile.length).toBeGreaterThan(0);
      // the best |r| neuron over all corpus tokens
      if (fires === 0) continue;
      const xs = toks.flatMap((x) => x.map((tok) => wordVector(tok.trim())));
      const a = acts.flat().map((row) => row[j]!);
      const r = Array.from({ length: dIn }, (_, d) => pearson(a, xs.map((x) => x[d]!)));
      const best = r.reduce((b, v, d) => (Math.abs(v) > Math.abs(r[b]!) ? d : b), 0);
      expect(feats[j]!.neuron_corr_index).toBe(best);
      expect(feats[j]!.neuron_corr_pearson!).toBeCloseTo(Math.abs(r[best]!), 4);
      checkedCorr++;
    }
    expect(checkedCorr).toBeGreaterThan(dSae / 2);

    // Feature.sources: the corpus lines' sources, counted over the feature's examples
    const busiest = [...new Set(ex.map((e) => e.feature_idx))].sort((a, b) => ex.filter((e) => e.feature_idx === b).length - ex.filter((e) => e.feature_idx === a).length)[0]!;
    const bySource = await t.app.services.text.sources("toy-build", busiest, 100);
    const mineEx = ex.filter((e) => e.feature_idx === busiest);
    expect(Object.fromEntries(bySource.map((r) => [r.source, Number(r.examples)]))).toEqual(
      Object.fromEntries(["code", "prose"].map((src) => [src, mineEx.filter((e) => e.source === src).length]).filter(([, n]) => (n as number) > 0)),
    );

    // the same build again is a no-op; --replace replaces the examples instead of adding to them
    expect((await run()).outcome).toBe("skipped");
    const again = await buildActivations(
      { ingest: t.app.services.ingest, encode: t.app.services.encode, kernel },
      { saeId: "toy-build", corpus, source, hook, checkpointDir: join(dir, "ckpt"), log: silentLogger, top: 10, quantiles: 3, replace: true },
    );
    expect(again.outcome).toBe("merged");
    const [{ n }] = await rawQuery<{ n: number }>(t.app.db, "SELECT count(*)::int AS n FROM activation WHERE sae_id = 'toy-build'");
    expect(n).toBe(ex.length);
  });

  it("names the file, line and field of a bad corpus line and stores nothing", async () => {
    const corpus = join(dir, "bad.jsonl");
    writeFileSync(corpus, '{"text": "word1 word2"}\n{"txt": "word3"}\n');
    const hook = { modelName: "toy-model", hookName: "blocks.3.hook_resid_post", dIn };
    const before = await rawQuery<{ n: number }>(t.app.db, "SELECT count(*)::int AS n FROM activation WHERE sae_id = 'toy-build'");
    await expect(
      buildActivations({ ingest: t.app.services.ingest, encode: t.app.services.encode, kernel }, { saeId: "toy-build", corpus, source, hook, checkpointDir: join(dir, "ckpt"), log: silentLogger }),
    ).rejects.toThrow(`${corpus}:2: text: is missing`);
    const after = await rawQuery<{ n: number }>(t.app.db, "SELECT count(*)::int AS n FROM activation WHERE sae_id = 'toy-build'");
    expect(after).toEqual(before);
  });
});

function pearson(a: number[], b: number[]): number {
  const n = a.length;
  const ma = a.reduce((s, v) => s + v, 0) / n, mb = b.reduce((s, v) => s + v, 0) / n;
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < n; i++) (sab += (a[i]! - ma) * (b[i]! - mb)), (saa += (a[i]! - ma) ** 2), (sbb += (b[i]! - mb) ** 2);
  return sab / Math.sqrt(saa * sbb);
}

describe("activations build refuses bad input before any work", () => {
  const hook = { modelName: "toy-model", hookName: "blocks.3.hook_resid_post", dIn };
  const build = (saeId: string, corpus: string) =>
    buildActivations({ ingest: t.app.services.ingest, encode: t.app.services.encode, kernel }, { saeId, corpus, source, hook, checkpointDir: join(dir, "ckpt"), log: silentLogger });
  it("a missing corpus, a directory, an unknown SAE", async () => {
    await expect(build("toy-build", join(dir, "nope.txt"))).rejects.toThrow(`${join(dir, "nope.txt")}: --corpus: not found`);
    await expect(build("toy-build", dir)).rejects.toThrow(`${dir}: --corpus: is not a file`);
    writeFileSync(join(dir, "ok.txt"), "word1 word2\n");
    await expect(build("no-such-sae", join(dir, "ok.txt"))).rejects.toMatchObject({ code: "NOT_FOUND" });
  });
});
