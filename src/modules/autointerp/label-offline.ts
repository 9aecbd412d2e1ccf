// Writes token-pattern/v1 labels for every alive feature of an SAE: one streaming pass
// over its activations in chunks (bounded memory), then the labels in bulk. Rerunning
// rewrites only labels whose text changed (idempotent; a demo step).
import type { ExamplesService } from "../explanation/examples.service.ts";
import type { ExplanationService } from "../explanation/explanation.service.ts";
import { TOKEN_PATTERN_METHOD, TokenPatternLabeler } from "./token-pattern.ts";

const CHUNK_FEATURES = 1_000;
const WRITE_BATCH = 5_000;

export async function labelSaeOffline(
  examples: ExamplesService,
  explanations: ExplanationService,
  saeId: string,
  onProgress?: (done: number, total: number) => void,
): Promise<{ labelled: number; alive: number }> {
  const max = await examples.maxFeatureIndex(saeId);
  if (max === null) return { labelled: 0, alive: 0 };
  const labeler = new TokenPatternLabeler();
  for (let from = 0; from <= max; from += CHUNK_FEATURES) {
    const rows = await examples.chunk(saeId, from, from + CHUNK_FEATURES);
    let group: typeof rows = [];
    const flush = () => {
      if (group.length) labeler.add(group[0].featureIndex, group);
      group = [];
    };
    for (const r of rows) {
      if (group.length && group[0].featureIndex !== r.featureIndex) flush();
      group.push(r);
    }
    flush();
    onProgress?.(Math.min(max + 1, from + CHUNK_FEATURES), max + 1);
  }
  const labels = labeler.labels();
  for (let i = 0; i < labels.length; i += WRITE_BATCH) await explanations.upsertMany(saeId, TOKEN_PATTERN_METHOD, labels.slice(i, i + WRITE_BATCH));
  await explanations.deleteMethodExcept(saeId, TOKEN_PATTERN_METHOD, labels.map((l) => l.featureIndex));
  return { labelled: labels.length, alive: labeler.count };
}

