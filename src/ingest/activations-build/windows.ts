// Pass 2 of `activations build`: only the texts chosen as examples, run again, each example's
// window (32 tokens around its max) cut with its per-token values.
import type { ActivationRow } from "../ingest.types.ts";
import type { ProgressReporter } from "../progress.ts";
import type { BatchEncoder } from "./batch-encoder.ts";
import type { BuildOptions } from "./build-types.ts";
import { type CorpusText, readCorpus } from "./corpus.ts";
import type { ExampleSpec } from "./select.ts";
import { runBatch } from "./source-batch.ts";

const BATCH_TEXTS = 256;

/** Pass 2: the chosen texts again, each example's window cut around its max; rows ordered per feature as specs are. */
export async function cutWindows(o: BuildOptions, encoder: BatchEncoder, specs: ExampleSpec[], progress: ProgressReporter): Promise<ActivationRow[]> {
  const byText = new Map<number, number[]>();
  specs.forEach((sp, i) => {
    const l = byText.get(sp.text);
    if (l) l.push(i);
    else byText.set(sp.text, [i]);
  });
  const out: (ActivationRow | null)[] = specs.map(() => null);
  const half = 32 >> 1;
  let batch: CorpusText[] = [];
  let ids: number[] = [];
  let done = 0;
  progress.start(`examples ${o.saeId}`, byText.size, "texts");
  const flush = async () => {
    const b = await runBatch(o, encoder, batch);
    b.acts.forEach((a, i) => {
      if (!a) throw new Error(`invariant failed: text ${ids[i]} was refused on the second pass`);
      const row0 = b.starts[i]!;
      for (const si of byText.get(ids[i]!)!) {
        const sp = specs[si]!;
        const len = a.tokens.length;
        const start = Math.max(0, Math.min(sp.pos - half, len - 32));
        const end = Math.min(len, start + 32);
        const tokens = a.tokens.slice(start, end);
        tokens[0] = tokens[0]!.trimStart();
        const values: number[] = [];
        for (let t = start; t < end; t++) {
          let v = 0;
          for (let e = b.codes.rowStart[row0 + t]!, z = b.codes.rowStart[row0 + t + 1]!; e < z; e++) if (b.codes.feature[e] === sp.feature) v = b.codes.value[e]!;
          values.push(v);
        }
        out[si] = { index: sp.feature, tokens, values, kind: sp.kind, binMin: sp.binMin, binMax: sp.binMax, source: batch[i]!.source };
      }
    });
    done += batch.length;
    progress.update({ features: done, activations: 0, explanations: 0 });
    batch = [];
    ids = [];
  };
  try {
    let index = 0;
    for await (const t of readCorpus(o.corpus)) {
      const id = index++;
      if (!byText.has(id)) continue;
      batch.push(t);
      ids.push(id);
      if (batch.length >= BATCH_TEXTS) await flush();
    }
    if (batch.length) await flush();
  } finally {
    progress.stop();
  }
  return out.map((r, i) => {
    if (!r) throw new Error(`invariant failed: text ${specs[i]!.text} of feature ${specs[i]!.feature} not found on the second pass`);
    return r;
  });
}
