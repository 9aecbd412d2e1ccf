// The score job's work for one feature: every explanation of it that lacks one of the
// requested score kinds from this scorer is scored on held-out activating examples and
// on contexts of other features (non-activating). Scores already stored are not redone.
import type { JobRecord } from "../../job/job.service.ts";
import { type Context, type Example, peakWords, seededRandom, shuffle, splitExamples } from "../examples.ts";
import type { JobTask } from "../pipeline.ts";
import { estimateCostBefore } from "../pricing.ts";
import { type ScoreKind, scoreExplanation } from "../score.ts";
import { noSpend, type TaskDeps, toExample, upstreamFailure } from "./common.ts";

export interface ScoreParams {
  key: string;
  model: string;
  kinds: ScoreKind[];
}

export const scoreKey = (model: string, kinds: readonly string[]) => `score|${[...kinds].sort().join(",")}|${model}`;

const NON_ACTIVATING = 10;
// A generous per-question bound: prompts are a few thousand characters, answers short.
const EST_PROMPT_CHARS = 8_000;
const EST_OUTPUT_TOKENS = 700;

export function scoreTask(deps: TaskDeps, job: JobRecord): JobTask {
  const params = job.params as unknown as ScoreParams;
  const saeId = job.saeId!;
  let alive: Promise<number[]> | null = null;

  /**
   * Contexts where this feature is silent: its own zero-valued samples (exports include
   * them as the lowest quantile), then the strongest contexts of random other features,
   * minus any that contain this feature's peak words.
   */
  async function nonActivating(idx: number, own: Example[]): Promise<Context[]> {
    const silent: Context[] = own.filter((e) => !(e.maxValue > 0)).map((e) => ({ tokens: e.tokens, text: e.text }));
    const seenSilent = new Set<string>();
    const out: Context[] = silent.filter((c) => !seenSilent.has(c.text) && (seenSilent.add(c.text), true)).slice(0, NON_ACTIVATING);
    if (out.length >= NON_ACTIVATING) return out;
    alive ??= deps.examples.activeFeatureIndices(saeId);
    const others = (await alive).filter((i) => i !== idx);
    const picks = shuffle(others, seededRandom(idx + 1)).slice(0, NON_ACTIVATING * 3);
    const words = peakWords(own);
    const texts = new Set(own.map((e) => e.text));
    const rows = await deps.examples.strongestContexts(saeId, picks);
    const byIdx = new Map(rows.map((r) => [r.featureIndex, r]));
    for (const i of picks) {
      const r = byIdx.get(i);
      if (!r || texts.has(r.text)) continue;
      if (r.tokens.some((t) => words.has(t.trim().toLowerCase()))) continue;
      out.push({ tokens: r.tokens, text: r.text, values: r.values });
      if (out.length === NON_ACTIVATING) break;
    }
    return out;
  }

  return {
    batchSize: 1,
    async prepare([idx]) {
      const pairs = await deps.explanations.unscored(saeId, idx, params.kinds, params.model);
      if (pairs.length === 0) return { estimateUsd: 0, execute: async () => [{ featureIndex: idx, status: "DONE", spend: noSpend() }] };
      const own = (await deps.examples.examplesOf(saeId, idx)).map(toExample);
      const { heldOut } = splitExamples(own);
      const negatives = await nonActivating(idx, own);
      return {
        estimateUsd: pairs.length * 2 * estimateCostBefore(params.model, EST_PROMPT_CHARS, EST_OUTPUT_TOKENS),
        async execute(signal) {
          const spend = noSpend();
          const errors: string[] = [];
          let raw: string | null = null;
          for (const p of pairs) {
            let out;
            try {
              out = await scoreExplanation(deps.llm, params.model, p.kind as ScoreKind, { explanation: p.text, heldOut, nonActivating: negatives, seed: idx }, signal);
            } catch (e) {
              errors.push(`${p.kind}: ${upstreamFailure(e, signal)}`);
              continue;
            }
            if (out === null) continue; // too few held-out examples to ask the question
            spend.inputTokens += out.usage.inputTokens;
            spend.outputTokens += out.usage.outputTokens;
            spend.costUsd += out.costUsd;
            if (out.ok) await deps.explanations.insertScores(p.id, p.kind, params.model, out.metrics, out.details);
            else {
              errors.push(`${p.kind}: ${out.error}`);
              raw ??= out.raw;
            }
          }
          return [{ featureIndex: idx, status: errors.length ? "FAILED" : "DONE", error: errors.join("; ") || null, raw, spend }];
        },
      };
    },
  };
}
