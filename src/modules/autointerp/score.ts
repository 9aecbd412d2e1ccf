// Scoring one explanation on held-out examples: detection and fuzzing (binary
// classification -> balanced accuracy, precision, recall, F1) and simulation
// (Pearson correlation of predicted vs true per-token activations).
import { askParsed } from "./ask.ts";
import { activeMask, type Context, type Example, highlight, readableTokens, seededRandom, shuffle, windowAroundPeak } from "./examples.ts";
import type { LlmClient } from "./llm-client.ts";
import { binaryMetrics, pearson } from "./metrics.ts";
import type { Usage } from "./pricing.ts";
import {
  detectionMessages,
  expectedFromLogprobs,
  formatReminder,
  fuzzingMessages,
  parseBinaryList,
  parseSimulation,
  SCORE_PROMPT_VERSIONS,
  simulationMessages,
} from "./prompts/score.ts";

import { SCORE_KINDS, type ScoreKind } from "./autointerp.constants.ts";
export { SCORE_KINDS, type ScoreKind };

export interface ScoreInput {
  explanation: string;
  heldOut: Example[];
  nonActivating: Context[];
  /** Seeds the shuffles, so a rerun asks the same question. */
  seed: number;
}

export type ScoreOutcome =
  | { kind: ScoreKind; ok: true; metrics: Record<string, number>; details: Record<string, unknown>; usage: Usage; costUsd: number }
  | { kind: ScoreKind; ok: false; error: string; raw: string; usage: Usage; costUsd: number };

const MAX_PER_CLASS = 10;
const MAX_SIM_EXAMPLES = 4;

const view = (e: { tokens: string[]; values?: number[] }) => {
  const r = readableTokens(e.tokens, e.values ?? e.tokens.map(() => 0));
  return windowAroundPeak(r, 20, 12);
};
const flat = (s: string) => s.replace(/\s+/g, " ").trim();
const none = { inputTokens: 0, outputTokens: 0 };

/** Held-out activating (label 1) vs non-activating (label 0), balanced and shuffled. */
function detectionSet(input: ScoreInput) {
  const n = Math.min(MAX_PER_CLASS, input.heldOut.length, Math.max(1, input.nonActivating.length));
  const pos = input.heldOut.slice(0, n).map((e) => ({ text: flat(view(e).tokens.join("")), label: 1 }));
  const neg = input.nonActivating.slice(0, n).map((c) => ({ text: flat(view(c).tokens.join("")), label: 0 }));
  return shuffle([...pos, ...neg], seededRandom(input.seed));
}

/** Held-out activating examples, alternately marked on their active tokens (1) or on as many random other tokens (0). */
function fuzzingSet(input: ScoreInput) {
  const random = seededRandom(input.seed ^ 0x5f3759df);
  const items = input.heldOut.slice(0, 2 * MAX_PER_CLASS).map((e, i) => {
    const w = view(e);
    const mask = activeMask(w.values);
    if (i % 2 === 0) return { text: flat(highlight(w.tokens, (j) => mask[j])), label: 1 };
    const count = Math.max(1, mask.filter(Boolean).length);
    const others = shuffle(w.tokens.map((_, j) => j).filter((j) => !mask[j] && w.tokens[j].trim() !== ""), random).slice(0, count);
    const wrong = new Set(others);
    return { text: flat(highlight(w.tokens, (j) => wrong.has(j))), label: others.length ? 0 : 1 };
  });
  return shuffle(items, random);
}

export async function scoreExplanation(
  llm: LlmClient,
  model: string,
  kind: ScoreKind,
  input: ScoreInput,
  signal?: AbortSignal,
): Promise<ScoreOutcome | null> {
  if (input.heldOut.length === 0) return null;
  if (kind === "simulation") return simulate(llm, model, input, signal);
  const set = kind === "detection" ? detectionSet(input) : fuzzingSet(input);
  if (set.length < 2) return null;
  const messages = kind === "detection" ? detectionMessages(input.explanation, set.map((s) => s.text)) : fuzzingMessages(input.explanation, set.map((s) => s.text));
  const r = await askParsed(llm, messages, (a) => parseBinaryList(a.text, set.length), {
    model,
    maxTokens: 300 + 4 * set.length,
    reminder: formatReminder("list"),
    signal,
  });
  if (r.value === null)
    return { kind, ok: false, error: r.error ?? `no list of ${set.length} 0/1 answers (asked ${r.calls} times)`, raw: r.raw, usage: r.usage, costUsd: r.costUsd };
  const m = binaryMetrics(set.map((s) => s.label), r.value);
  return {
    kind,
    ok: true,
    metrics: { balanced_accuracy: m.balancedAccuracy, precision: m.precision, recall: m.recall, f1: m.f1 },
    details: { promptVersion: SCORE_PROMPT_VERSIONS[kind], n: set.length, tp: m.tp, fp: m.fp, tn: m.tn, fn: m.fn, ...r.usage, costUsd: r.costUsd },
    usage: r.usage,
    costUsd: r.costUsd,
  };
}

async function simulate(llm: LlmClient, model: string, input: ScoreInput, signal?: AbortSignal): Promise<ScoreOutcome | null> {
  const pos = input.heldOut.slice(0, MAX_SIM_EXAMPLES).map(view);
  const neg = input.nonActivating.slice(0, Math.ceil(MAX_SIM_EXAMPLES / 2)).map((c) => ({ ...view(c), values: view(c).values.map(() => 0) }));
  const examples = shuffle([...pos, ...neg], seededRandom(input.seed ^ 0x1234567));
  const truth = examples.flatMap((e) => e.values);
  if (new Set(truth).size < 2) return null;
  const lengths = examples.map((e) => e.tokens.length);
  const r = await askParsed(llm, simulationMessages(input.explanation, examples.map((e) => e.tokens)), (a) => parseSimulation(a.text, lengths), {
    model,
    maxTokens: 200 + 4 * truth.length,
    reminder: formatReminder("simulation"),
    topLogprobs: 5,
    signal,
  });
  if (r.value === null)
    return { kind: "simulation", ok: false, error: r.error ?? `no per-token predictions (asked ${r.calls} times)`, raw: r.raw, usage: r.usage, costUsd: r.costUsd };
  const expected = r.last?.logprobs ? expectedFromLogprobs(r.raw, r.value, r.last.logprobs) : null;
  const predicted = (expected ?? r.value.values).flat();
  const corr = pearson(truth, predicted) ?? 0;
  return {
    kind: "simulation",
    ok: true,
    metrics: { correlation: corr },
    details: {
      promptVersion: SCORE_PROMPT_VERSIONS.simulation,
      tokens: truth.length,
      usedLogprobs: expected !== null,
      ...r.usage,
      costUsd: r.costUsd,
    },
    usage: r.usage ?? none,
    costUsd: r.costUsd,
  };
}
