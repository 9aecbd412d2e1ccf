// Pass 2 of `activations build`: only the texts chosen as examples, run again (once for every
// SAE of the build: one batch through the model at all their hooks), each example's window
// (32 tokens around its max) cut with its per-token values.
import type { ActivationRow } from "../ingest.types.ts";
import type { ProgressReporter } from "../progress.ts";
import type { BatchEncoder } from "./batch-encoder.ts";
import type { BuildHook, BuildSource } from "./build-types.ts";
import { type CorpusText, readCorpus } from "./corpus.ts";
import type { ExampleSpec } from "./select.ts";
import { activateAll, encodeBatch, hookKey } from "./source-batch.ts";

const BATCH_TEXTS = 256;

/** One SAE's part of the examples pass. */
export interface WindowJob {
  saeId: string;
  hook: BuildHook;
  encoder: BatchEncoder;
  specs: ExampleSpec[];
}

/**
 * Pass 2: the texts any SAE chose again, each example's window cut around its max; per SAE its
 * rows ordered per feature as its specs are.
 */
export async function cutWindows(o: { corpus: string; source: BuildSource }, jobs: readonly WindowJob[], progress: ProgressReporter): Promise<ActivationRow[][]> {
  const byText = jobs.map((j) => {
    const m = new Map<number, number[]>();
    j.specs.forEach((sp, i) => {
      const l = m.get(sp.text);
      if (l) l.push(i);
      else m.set(sp.text, [i]);
    });
    return m;
  });
  const wanted = new Set<number>();
  for (const m of byText) for (const t of m.keys()) wanted.add(t);
  const hookKeys = [...new Set(jobs.map((j) => hookKey(j.hook)))];
  const hooks = hookKeys.map((k) => jobs.find((j) => hookKey(j.hook) === k)!.hook);
  const out: (ActivationRow | null)[][] = jobs.map((j) => j.specs.map(() => null));
  const half = 32 >> 1;
  let batch: CorpusText[] = [];
  let ids: number[] = [];
  let done = 0;
  progress.start(`examples ${jobs.map((j) => j.saeId).join(", ")}`, wanted.size, "texts");
  const flush = async () => {
    // only the hooks of SAEs that chose a text of this batch
    const needed = jobs.map((_, k) => ids.some((id) => byText[k]!.has(id)));
    const usedKeys = hookKeys.filter((key) => jobs.some((j, k) => needed[k] && hookKey(j.hook) === key));
    const perHook = await activateAll(o.source, usedKeys.map((key) => hooks[hookKeys.indexOf(key)]!), batch.map((b) => b.text));
    for (let k = 0; k < jobs.length; k++) {
      if (!needed[k]) continue;
      const job = jobs[k]!;
      const mine = byText[k]!;
      const at = ids.map((id, i) => (mine.has(id) ? i : -1)).filter((i) => i >= 0);
      const acts = perHook[usedKeys.indexOf(hookKey(job.hook))]!;
      const b = await encodeBatch(o.source.name, job.hook, job.encoder, at.map((i) => acts[i]!));
      at.forEach((i, n) => {
        const a = b.acts[n];
        if (!a) throw new Error(`invariant failed: text ${ids[i]} was refused on the second pass`);
        const row0 = b.starts[n]!;
        for (const si of mine.get(ids[i]!)!) {
          const sp = job.specs[si]!;
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
          out[k]![si] = { index: sp.feature, tokens, values, kind: sp.kind, binMin: sp.binMin, binMax: sp.binMax, source: batch[i]!.source };
        }
      });
    }
    done += batch.length;
    progress.update({ features: done, activations: 0, explanations: 0 });
    batch = [];
    ids = [];
  };
  try {
    let index = 0;
    for await (const t of wanted.size ? readCorpus(o.corpus) : []) {
      const id = index++;
      if (!wanted.has(id)) continue;
      batch.push(t);
      ids.push(id);
      if (batch.length >= BATCH_TEXTS) await flush();
    }
    if (batch.length) await flush();
  } finally {
    progress.stop();
  }
  return out.map((rows, k) =>
    rows.map((r, i) => {
      if (!r) throw new Error(`invariant failed: text ${jobs[k]!.specs[i]!.text} of feature ${jobs[k]!.specs[i]!.feature} of SAE ${jobs[k]!.saeId} not found on the second pass`);
      return r;
    }),
  );
}
