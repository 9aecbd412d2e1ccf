// Explanation prompts (delphi style), versioned: a stored explanation records the
// version that produced it, and a new version is a new key, so changing the wording
// means adding a template here, never editing one that has been used.
import type { ChatMessage } from "../llm-client.ts";
import { activationList, activeMask, type Example, highlight, readableTokens, windowAroundPeak } from "../examples.ts";

export interface ExplainTemplate {
  version: string;
  maxOutputTokens: number;
  build(examples: Example[]): ChatMessage[];
}

const SYSTEM_V1 = `You are a careful interpretability researcher studying one latent feature of a sparse autoencoder trained on a language model's activations. Your job is to say, in a few words, what makes the feature fire.

You will see text excerpts on which the feature is active. In each excerpt, the tokens where it is active are wrapped in double angle brackets, like <<this>>; a run of consecutive active tokens shares one pair of brackets. After each excerpt, a line "Activations:" lists the active tokens with their strength from 1 (weak) to 10 (the strongest seen for this feature).

Work through it briefly:
1. Which tokens are marked, and what do they have in common (the same word, a category of words, a piece of syntax)?
2. What does the surrounding text share (topic, register, position)?
3. Does strength vary in a telling way?

Then give a concise explanation: a short phrase, at most 15 words, naming the concept or pattern. Do not quote the excerpts at length and do not mention the brackets or numbers.

End your answer with exactly one line of this form:
[EXPLANATION]: <your explanation>`;

/** One excerpt as the explainer sees it. */
export function renderExample(ex: Example, n: number, scaleMax: number): string {
  const r = readableTokens(ex.tokens, ex.values);
  const w = windowAroundPeak(r);
  const mask = activeMask(w.values);
  const text = highlight(w.tokens, (i) => mask[i]).replace(/\s+/g, " ").trim();
  return `Example ${n}: ${text}\nActivations: ${activationList(w.tokens, w.values, mask, scaleMax)}`;
}

export const explainDelphiV1: ExplainTemplate = {
  version: "delphi-v1",
  maxOutputTokens: 500,
  build(examples) {
    const scaleMax = Math.max(0, ...examples.map((e) => e.maxValue));
    const body = examples.map((e, i) => renderExample(e, i + 1, scaleMax)).join("\n\n");
    return [
      { role: "system", content: SYSTEM_V1 },
      { role: "user", content: `Feature excerpts (${examples.length}):\n\n${body}\n\nWhat does this feature detect?` },
    ];
  },
};

export const EXPLAIN_TEMPLATES: Record<string, ExplainTemplate> = { [explainDelphiV1.version]: explainDelphiV1 };
export const CURRENT_EXPLAIN_VERSION = explainDelphiV1.version;
/** The method name stored with LLM explanations. */
export const LLM_EXPLAIN_METHOD = "llm-explain/v1";

export function explainTemplate(version: string): ExplainTemplate {
  const t = EXPLAIN_TEMPLATES[version];
  if (!t) throw new Error(`unknown explain prompt version ${JSON.stringify(version)}; known: ${Object.keys(EXPLAIN_TEMPLATES).join(", ")}`);
  return t;
}

const MARKER = /\[?\s*explanation\s*\]?\s*\**\s*[:：]\s*\**/gi;

/**
 * The explanation from a free-text answer: the text after the last "[EXPLANATION]:"
 * (brackets, bold and case tolerated), or on the next non-empty line when the marker
 * ends its line. Quotes, markdown and a trailing period are stripped. null = no answer.
 */
export function parseExplanation(answer: string): string | null {
  const matches = [...answer.matchAll(MARKER)];
  const last = matches.at(-1);
  if (!last || last.index === undefined) return null;
  const rest = answer.slice(last.index + last[0].length);
  const line = rest.split(/\r?\n/).map((l) => l.trim()).find((l) => l.length > 0) ?? "";
  let cleaned = line;
  for (let prev = ""; prev !== cleaned; ) {
    prev = cleaned;
    cleaned = cleaned
      .replace(/^[*_`>\s-]+|[*_`\s]+$/g, "")
      .replace(/^["“‘«'](.*)["”’»']$/, "$1")
      .replace(/\.$/, "");
  }
  if (cleaned.length === 0 || cleaned.length > 300 || /^<.*>$/.test(cleaned)) return null;
  return cleaned;
}
