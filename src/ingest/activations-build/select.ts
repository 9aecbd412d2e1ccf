// From the accumulated state to what is stored: per feature its stats row (density, max,
// histogram, best-correlated neuron) and which texts become examples (top, then quantile
// samples), by the demo build's rules (scripts/demo-dataset/contexts.ts).
import type { FeatureRow } from "../ingest.types.ts";
import { type BuildState, HIST_BINS, HIST_LO, HIST_STEP } from "./build-state.ts";
import { type Candidate, Rng, sortedCandidates } from "./candidates.ts";

export interface ExampleSpec {
  feature: number;
  text: number;
  pos: number;
  kind: "top" | "quantile";
  binMin: number | null;
  binMax: number | null;
}

/** Neurons listed per feature in the dashboard's correlatedNeurons (by |r|). */
const CORRELATED_SHOWN = 5;

export function featureRow(s: BuildState, j: number): FeatureRow {
  const density = s.tokens > 0 ? s.fires[j]! / s.tokens : 0;
  const corr: { d: number; r: number }[] = [];
  for (let d = 0; d < s.dIn; d++) {
    const r = s.pearson(j, d);
    if (r !== null) corr.push({ d, r });
  }
  corr.sort((a, b) => Math.abs(b.r) - Math.abs(a.r) || a.d - b.d);
  const shown = corr.slice(0, CORRELATED_SHOWN);
  const heights: number[] = [];
  const values: number[] = [];
  let first = HIST_BINS, last = -1;
  for (let b = 0; b < HIST_BINS; b++) if (s.hist[j * HIST_BINS + b]! > 0) (first = Math.min(first, b)), (last = b);
  for (let b = first; b <= last; b++) {
    values.push(10 ** (HIST_LO + (b + 0.5) * HIST_STEP));
    heights.push(s.hist[j * HIST_BINS + b]!);
  }
  return {
    index: j,
    density,
    maxActivation: s.maxAct[j]!,
    // The best |r|: stored as a magnitude so SaeStats.neuronCorrelatedFraction counts
    // anti-correlated neurons too; the dashboard keeps the signs.
    neuronCorrIndex: shown[0]?.d ?? null,
    neuronCorrPearson: shown[0] ? Math.abs(shown[0].r) : null,
    dashboard: {
      freqHistogram: heights.length ? { values, heights } : null,
      correlatedNeurons: shown.length ? { indices: shown.map((c) => c.d), pearson: shown.map((c) => c.r), l1: [] } : null,
    },
  };
}

/** Feature j's examples: the top texts (at most perWord per max token), then perQuantile samples per bin, weakest bin first. */
export function featureExamples(s: BuildState, j: number): ExampleSpec[] {
  const { top, quantiles, perQuantile, seed } = s.p;
  const chosen = new Map<number, Candidate>();
  for (const c of sortedCandidates(s.limited, j, top)) chosen.set(c.text, c);
  for (const c of sortedCandidates(s.plain, j, top)) if (chosen.size < top && !chosen.has(c.text)) chosen.set(c.text, c);
  const out: ExampleSpec[] = [...chosen.values()].map((c) => ({ feature: j, text: c.text, pos: c.pos, kind: "top", binMin: null, binMax: null }));
  const rest = sortedCandidates(s.sample, j, s.p.reservoir).filter((c) => !chosen.has(c.text)).reverse();
  // Seeded per feature, so the samples do not depend on the order features are processed in.
  const rng = new Rng((seed ^ Math.imul(j + 1, 0x9e3779b1)) >>> 0);
  for (let b = 0; b < quantiles && rest.length > 0; b++) {
    const lo = Math.floor((b * rest.length) / quantiles), hi = Math.floor(((b + 1) * rest.length) / quantiles);
    if (hi <= lo) continue;
    const binMin = rest[lo]!.value, binMax = rest[hi - 1]!.value;
    const picks = new Set<number>();
    while (picks.size < Math.min(perQuantile, hi - lo)) picks.add(lo + Math.floor(rng.next() * (hi - lo)));
    for (const p of [...picks].sort((a, b) => a - b)) {
      out.push({ feature: j, text: rest[p]!.text, pos: rest[p]!.pos, kind: "quantile", binMin, binMax });
    }
  }
  return out;
}
