// Loads tests/fixtures/search/toy-features.json: a hand-made family of labelled features
// with real English activating contexts (tokens = words, the feature's words firing).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { App } from "../../src/app.ts";

export const SEARCH_FIXTURE_DIR = join(import.meta.dirname, "..", "fixtures", "search");
export const MINI_WORD_VECTORS = join(SEARCH_FIXTURE_DIR, "word-vectors");

interface ToyFeature {
  sae: string;
  index: number;
  label: string | null;
  method?: string;
  score?: number;
  contexts: string[];
}
interface ToyFixture {
  model: { id: string; name: string; dModel: number };
  family: { id: string; name: string };
  saes: { id: string; dSae: number; model?: string; family?: string | null }[];
  features: ToyFeature[];
}

export function readToyFixture(): ToyFixture {
  return JSON.parse(readFileSync(join(SEARCH_FIXTURE_DIR, "toy-features.json"), "utf8")) as ToyFixture;
}

/** A context's tokens fire where they share a word with the label (or, unlabelled, on the first long word). */
function activationOf(f: ToyFeature, text: string) {
  const tokens = text.split(/\s+/);
  const labelWords = new Set((f.label ?? "").toLowerCase().split(/[^a-z]+/).filter((w) => w.length > 3));
  const values: number[] = tokens.map((t) => {
    const w = t.toLowerCase().replace(/[^a-z]/g, "");
    return [...labelWords].some((l) => w.startsWith(l.slice(0, 5))) ? 1 : 0;
  });
  if (!values.some((v) => v > 0)) values[tokens.findIndex((t) => t.length > 5)] = 0.8;
  const max = Math.max(...values);
  return { tokens, values, max, maxIndex: values.indexOf(max) };
}

export async function loadToyFixture(app: App): Promise<ToyFixture> {
  const fx = readToyFixture();
  const p = app.db.prisma;
  await p.model.create({ data: fx.model });
  await p.model.create({ data: { id: "other-model", name: "other model", dModel: 4 } });
  await p.saeFamily.create({ data: { ...fx.family, modelId: fx.model.id } });
  for (const s of fx.saes) {
    await p.sae.create({
      data: {
        id: s.id,
        name: s.id,
        modelId: s.model ?? fx.model.id,
        familyId: s.family === null ? null : (s.family ?? fx.family.id),
        architecture: "topk",
        dIn: 4,
        dSae: s.dSae,
        status: "ready",
      },
    });
    await p.feature.createMany({ data: Array.from({ length: s.dSae }, (_, i) => ({ saeId: s.id, index: i })) });
  }
  for (const f of fx.features) {
    await p.activation.createMany({
      data: f.contexts.map((text, ordinal) => {
        const a = activationOf(f, text);
        return { saeId: f.sae, featureIndex: f.index, ordinal, tokens: a.tokens, values: a.values, maxValue: a.max, maxTokenIndex: a.maxIndex, kind: "top", text };
      }),
    });
    if (f.label) {
      const e = await p.explanation.create({
        data: { saeId: f.sae, featureIndex: f.index, text: f.label, method: f.method ?? "token-pattern/v1" },
      });
      if (f.score !== undefined) {
        await p.explanationScore.create({ data: { saeId: e.saeId, explanationId: e.id, kind: "detection", metric: "balanced_accuracy", value: f.score } });
        await p.explanationScore.create({ data: { saeId: e.saeId, explanationId: e.id, kind: "detection", metric: "precision", value: 1 } });
      }
    }
  }
  return fx;
}
