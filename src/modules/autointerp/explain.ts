// Explaining one feature: its training examples into the versioned prompt, the
// answer parsed from plain text (asked at most twice).
import { askParsed } from "./ask.ts";
import type { Example } from "./examples.ts";
import type { LlmClient } from "./llm-client.ts";
import type { Usage } from "./pricing.ts";
import { type ExplainTemplate, parseExplanation } from "./prompts/explain.ts";
import { formatReminder } from "./prompts/score.ts";

export type ExplainOutcome =
  | { ok: true; text: string; raw: string; usage: Usage; costUsd: number; calls: number }
  | { ok: false; error: string; raw: string; usage: Usage; costUsd: number; calls: number };

export async function explainFeature(
  llm: LlmClient,
  model: string,
  template: ExplainTemplate,
  examples: Example[],
  signal?: AbortSignal,
): Promise<ExplainOutcome> {
  const messages = template.build(examples);
  const r = await askParsed(llm, messages, (a) => parseExplanation(a.text), {
    model,
    maxTokens: template.maxOutputTokens,
    reminder: formatReminder("explain"),
    signal,
  });
  const base = { raw: r.raw, usage: r.usage, costUsd: r.costUsd, calls: r.calls };
  if (r.value !== null) return { ok: true, text: r.value, ...base };
  return { ok: false, error: r.error ?? `no [EXPLANATION] line in the answer (asked ${r.calls} times)`, ...base };
}
