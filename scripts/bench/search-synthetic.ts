// Synthetic labelled features for the concept-search benchmark: n features spread over a
// few SAEs of one family, each with a token-pattern-like label of 2-4 real English words
// (from the demo word table) and three activating contexts that contain them. Seeded, so
// every run searches the same data. Rows go in through large unnest statements.
import type { App } from "../../src/app.ts";

export interface SyntheticOptions {
  features: number;
  saes: number;
  seed?: number;
  contextsPerFeature?: number;
}

function rng(seed: number) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 4294967296;
  };
}

/** Content words: skip the ~150 most frequent (function words) and very rare ones. */
export function contentWords(words: readonly string[]): string[] {
  return words.slice(150, 30_000).filter((w) => w.length > 2);
}

export async function loadSyntheticLabels(app: App, words: readonly string[], opts: SyntheticOptions): Promise<string[]> {
  const rand = rng(opts.seed ?? 7);
  const vocab = contentWords(words);
  // Zipf-like choice: frequent content words appear in more labels, as in real ones.
  const pick = () => vocab[Math.floor(vocab.length * rand() ** 2)];
  const p = app.db.prisma;
  await p.model.create({ data: { id: "synthetic-model", name: "synthetic", dModel: 100 } });
  await p.saeFamily.create({ data: { id: "synthetic-family", name: "synthetic", modelId: "synthetic-model" } });
  const per = Math.ceil(opts.features / opts.saes);
  const saeIds: string[] = [];
  for (let s = 0; s < opts.saes; s++) {
    const id = `synthetic/${s}`;
    saeIds.push(id);
    await p.sae.create({
      data: { id, name: id, modelId: "synthetic-model", familyId: "synthetic-family", architecture: "topk", dIn: 100, dSae: per, status: "ready" },
    });
    for (let from = 0; from < per; from += 5000) {
      const idx: number[] = [];
      const labels: string[] = [];
      const acts: { feature_idx: number; ordinal: number; tokens: string[]; values: number[]; text: string }[] = [];
      for (let i = from; i < Math.min(per, from + 5000); i++) {
        const n = 2 + Math.floor(rand() * 3);
        const lw = Array.from({ length: n }, pick);
        idx.push(i);
        labels.push(lw.join(", "));
        for (let c = 0; c < (opts.contextsPerFeature ?? 3); c++) {
          const tokens = Array.from({ length: 8 + Math.floor(rand() * 8) }, () => words[Math.floor(rand() * 2000)]);
          const at = Math.floor(rand() * tokens.length);
          tokens[at] = lw[c % lw.length];
          const values = tokens.map((_, j) => (j === at ? 1 : 0));
          acts.push({ feature_idx: i, ordinal: c, tokens, values, text: tokens.join(" ") });
        }
      }
      await p.$executeRaw`/* bench.syntheticFeatures */
        INSERT INTO feature (sae_id, idx) SELECT ${id}, i FROM unnest(${idx}::int[]) AS i`;
      await p.$executeRaw`/* bench.syntheticLabels */
        INSERT INTO explanation (sae_id, feature_idx, text, method)
        SELECT ${id}, l.i, l.t, 'token-pattern/v1' FROM unnest(${idx}::int[], ${labels}::text[]) AS l(i, t)`;
      await p.$executeRaw`/* bench.syntheticActivations */
        INSERT INTO activation (sae_id, feature_idx, ordinal, tokens, "values", max_value, max_token_index, kind, text)
        SELECT ${id}, a.feature_idx, a.ordinal, a.tokens, a."values", 1, 0, 'top', a.text
        FROM jsonb_to_recordset(${JSON.stringify(acts)}::jsonb) AS a(feature_idx int, ordinal int, tokens text[], "values" real[], text text)`;
    }
  }
  return saeIds;
}

/** Queries a user might type: label words, pairs of them, and misspellings. */
export function syntheticQueries(words: readonly string[], n: number, seed = 11): string[] {
  const rand = rng(seed);
  const vocab = contentWords(words);
  const pick = () => vocab[Math.floor(vocab.length * rand() ** 2)];
  return Array.from({ length: n }, (_, i) => {
    if (i % 4 === 3) {
      const w = pick();
      const at = 1 + Math.floor(rand() * (w.length - 2));
      return w.slice(0, at) + w.slice(at + 1); // a dropped letter
    }
    return i % 2 ? `${pick()} ${pick()}` : pick();
  });
}

