// Activation examples per feature over the WordNet texts: top contexts (by the text's max
// token activation) and samples from activation quantile bins, with per-token values.
import type { Rng } from "./prng.ts";
import type { SparseCodes } from "./topk-sae.ts";
import type { TokenisedText } from "./wordnet.ts";

export interface ExampleOptions {
  top: number;
  /** At most this many top contexts may share their max-activating word (variety for readers). */
  perWord: number;
  bins: number;
  perBin: number;
  window: number;
  rng: Rng;
}

export interface Example {
  tokens: string[];
  values: number[];
  kind: "top" | "quantile";
  binMin: number | null;
  binMax: number | null;
  source: string;
}

export interface FeatureExamples {
  index: number;
  density: number;
  maxActivation: number;
  examples: Example[];
}

/** Activation of feature j on word w (0 if j is not among w's k active latents). */
function act(codes: SparseCodes, w: number, j: number): number {
  if (w < 0) return 0;
  for (let s = 0; s < codes.k; s++) if (codes.idx[w * codes.k + s] === j) return codes.val[w * codes.k + s];
  return 0;
}

/** Per (feature, text): the text's max activation and where, as CSR arrays grouped by feature. */
function maxPerText(texts: TokenisedText[], codes: SparseCodes, dSae: number) {
  const best = new Float32Array(dSae);
  const bestPos = new Int32Array(dSae);
  const touched: number[] = [];
  const counts = new Int32Array(dSae + 1);
  const fires = new Float64Array(dSae);
  const maxAct = new Float32Array(dSae);
  let tokens = 0;
  const visit = (t: TokenisedText, emit: (j: number, v: number, pos: number) => void) => {
    touched.length = 0;
    t.wordIds.forEach((w, pos) => {
      if (w < 0) return;
      for (let s = 0; s < codes.k; s++) {
        const j = codes.idx[w * codes.k + s];
        const v = codes.val[w * codes.k + s];
        if (j < 0 || v <= 0) continue;
        if (best[j] === 0) touched.push(j);
        if (v > best[j]) {
          best[j] = v;
          bestPos[j] = pos;
        }
      }
    });
    for (const j of touched) {
      emit(j, best[j], bestPos[j]);
      best[j] = 0;
    }
  };
  for (const t of texts) {
    tokens += t.tokens.length;
    for (const w of t.wordIds) {
      if (w < 0) continue;
      for (let s = 0; s < codes.k; s++) {
        const j = codes.idx[w * codes.k + s];
        const v = codes.val[w * codes.k + s];
        if (j < 0 || v <= 0) continue;
        fires[j]++;
        if (v > maxAct[j]) maxAct[j] = v;
      }
    }
    visit(t, (j) => counts[j + 1]++);
  }
  for (let j = 0; j < dSae; j++) counts[j + 1] += counts[j];
  const fill = counts.slice(0, dSae);
  const textId = new Int32Array(counts[dSae]);
  const value = new Float32Array(counts[dSae]);
  const pos = new Int32Array(counts[dSae]);
  texts.forEach((t, ti) =>
    visit(t, (j, v, p) => {
      const at = fill[j]++;
      textId[at] = ti;
      value[at] = v;
      pos[at] = p;
    }),
  );
  return { offsets: counts, textId, value, pos, fires, maxAct, tokens };
}

const round = (v: number) => Math.round(v * 1000) / 1000;

export function* featureExamples(
  texts: TokenisedText[],
  sources: string[],
  codes: SparseCodes,
  dSae: number,
  o: ExampleOptions,
): Generator<FeatureExamples> {
  const m = maxPerText(texts, codes, dSae);
  const example = (j: number, at: number, kind: Example["kind"], binMin: number | null, binMax: number | null): Example => {
    const t = texts[m.textId[at]];
    const start = Math.max(0, Math.min(m.pos[at] - (o.window >> 1), t.tokens.length - o.window));
    const end = Math.min(t.tokens.length, start + o.window);
    const tokens = t.tokens.slice(start, end);
    tokens[0] = tokens[0].trimStart();
    const values = Array.from(t.wordIds.subarray(start, end), (w) => round(act(codes, w, j)));
    return { tokens, values, kind, binMin, binMax, source: sources[m.textId[at]] };
  };
  for (let j = 0; j < dSae; j++) {
    const from = m.offsets[j], to = m.offsets[j + 1];
    const order = Array.from({ length: to - from }, (_, i) => from + i);
    // strongest first; ties (same word) go to shorter texts, then corpus order
    order.sort((a, b) => m.value[b] - m.value[a] || texts[m.textId[a]].tokens.length - texts[m.textId[b]].tokens.length || a - b);
    const chosen = new Set<number>();
    const perWord = new Map<number, number>();
    for (const at of order) {
      if (chosen.size >= o.top) break;
      const w = texts[m.textId[at]].wordIds[m.pos[at]];
      if ((perWord.get(w) ?? 0) >= o.perWord) continue;
      perWord.set(w, (perWord.get(w) ?? 0) + 1);
      chosen.add(at);
    }
    for (const at of order) if (chosen.size < o.top) chosen.add(at);
    const examples = [...chosen].map((at) => example(j, at, "top", null, null));
    // quantile bins over the remaining texts, weakest bin first
    const rest = order.filter((at) => !chosen.has(at)).reverse();
    for (let b = 0; b < o.bins && rest.length > 0; b++) {
      const lo = Math.floor((b * rest.length) / o.bins), hi = Math.floor(((b + 1) * rest.length) / o.bins);
      if (hi <= lo) continue;
      const binMin = round(m.value[rest[lo]]), binMax = round(m.value[rest[hi - 1]]);
      const picks = new Set<number>();
      while (picks.size < Math.min(o.perBin, hi - lo)) picks.add(lo + o.rng.int(hi - lo));
      for (const p of [...picks].sort((a, b) => a - b)) examples.push(example(j, rest[p], "quantile", binMin, binMax));
    }
    yield { index: j, density: m.fires[j] / m.tokens, maxActivation: round(m.maxAct[j]), examples };
  }
}
