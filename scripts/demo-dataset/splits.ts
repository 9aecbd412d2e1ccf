// Reading features to check they mean something: top words per feature, and how a small
// SAE's feature splits into children in the next size (decoder cosine).
import type { SparseCodes, TopKSae } from "./topk-sae.ts";

/** For each feature, the words that activate it most, strongest first. */
export function topWords(codes: SparseCodes, words: string[], dSae: number, count = 12): string[][] {
  const per: Array<Array<[number, number]>> = Array.from({ length: dSae }, () => []);
  for (let i = 0; i < words.length; i++) {
    for (let s = 0; s < codes.k; s++) {
      const j = codes.idx[i * codes.k + s];
      if (j >= 0) per[j].push([codes.val[i * codes.k + s], i]);
    }
  }
  return per.map((list) => list.sort((a, b) => b[0] - a[0] || a[1] - b[1]).slice(0, count).map(([, i]) => words[i]));
}

/** The child SAE's features closest to one parent feature by decoder cosine. */
export function children(parent: TopKSae, feature: number, child: TopKSae, count: number): Array<{ index: number; cosine: number }> {
  const d = parent.dIn;
  const out: Array<{ index: number; cosine: number }> = [];
  for (let c = 0; c < child.dSae; c++) {
    let dot = 0;
    for (let i = 0; i < d; i++) dot += parent.dec[feature * d + i] * child.dec[c * d + i];
    out.push({ index: c, cosine: dot });
  }
  return out.sort((a, b) => b.cosine - a.cosine).slice(0, count);
}

/** The feature that fires most strongly on a word, if any. */
export function strongestFeature(codes: SparseCodes, wordIndex: number): number | null {
  return codes.val[wordIndex * codes.k] > 0 ? codes.idx[wordIndex * codes.k] : null;
}

export interface SaeView {
  sae: TopKSae;
  codes: SparseCodes;
  top: string[][];
}

export interface ProbeSplit {
  probe: string;
  parent: { dSae: number; index: number; topWords: string[] };
  children: Array<{ dSae: number; index: number; cosine: number; topWords: string[] }>;
}

/** For each probe word: its strongest small-SAE feature and that feature's nearest children. */
export function probeSplits(small: SaeView, large: SaeView, words: string[], probes: string[], childCount = 4): ProbeSplit[] {
  const out: ProbeSplit[] = [];
  const seen = new Set<number>();
  for (const probe of probes) {
    const w = words.indexOf(probe);
    if (w < 0) continue;
    const f = strongestFeature(small.codes, w);
    if (f === null || seen.has(f)) continue;
    seen.add(f);
    out.push({
      probe,
      parent: { dSae: small.sae.dSae, index: f, topWords: small.top[f] },
      children: children(small.sae, f, large.sae, childCount).map((c) => ({
        dSae: large.sae.dSae,
        index: c.index,
        cosine: Number(c.cosine.toFixed(3)),
        topWords: large.top[c.index],
      })),
    });
  }
  return out;
}

export function splitMarkdown(splits: ProbeSplit[]): string {
  const lines: string[] = [];
  for (const s of splits) {
    lines.push(`### "${s.probe}": ${s.parent.dSae}/${s.parent.index}: ${s.parent.topWords.join(", ")}`, "");
    for (const c of s.children) lines.push(`- ${c.dSae}/${c.index} (cos ${c.cosine.toFixed(3)}): ${c.topWords.join(", ")}`);
    lines.push("");
  }
  return lines.join("\n");
}
