// Scoring prompts (detection, fuzzing, simulation), versioned like the explain
// templates, and tolerant parsers for their plain-text answers.
import type { ChatMessage, TokenLogprob } from "../llm-client.ts";

export const SCORE_PROMPT_VERSIONS = { detection: "detection-v1", fuzzing: "fuzzing-v1", simulation: "simulation-v1" } as const;

const DETECTION_SYSTEM = `You are a careful linguistics researcher checking an explanation of a language-model feature.

You will get the explanation and a numbered list of text excerpts. For each excerpt, decide whether the feature as explained would be active on any of its tokens: 1 if it would, 0 if it would not.

Reply with a list of 0s and 1s, one per excerpt in order, on the last line of your answer, like this: [1, 0, 0, 1]`;

const FUZZING_SYSTEM = `You are a careful linguistics researcher checking an explanation of a language-model feature.

You will get the explanation and a numbered list of text excerpts. In each excerpt some tokens are marked with double angle brackets, like <<this>>. For each excerpt, decide whether the marked tokens are exactly the kind of thing the explanation describes: 1 if they are, 0 if the marking does not fit the explanation.

Reply with a list of 0s and 1s, one per excerpt in order, on the last line of your answer, like this: [1, 0, 0, 1]`;

const SIMULATION_SYSTEM = `You are simulating a feature of a language model from its explanation.

You will get the explanation and some excerpts, each given as a JSON list of tokens. For every token, predict how strongly the feature is active on it, as an integer from 0 (not at all) to 10 (maximally). Most tokens are usually 0.

Reply with one line per excerpt, in order, each of the form
Example <n>: [<integer for token 1>, <integer for token 2>, ...]
with exactly one integer per token and nothing else on the line.`;

export function detectionMessages(explanation: string, excerpts: string[]): ChatMessage[] {
  return [
    { role: "system", content: DETECTION_SYSTEM },
    { role: "user", content: `Explanation: ${explanation}\n\nExcerpts:\n${excerpts.map((t, i) => `Example ${i + 1}: ${t}`).join("\n")}` },
  ];
}

export function fuzzingMessages(explanation: string, excerpts: string[]): ChatMessage[] {
  return [
    { role: "system", content: FUZZING_SYSTEM },
    { role: "user", content: `Explanation: ${explanation}\n\nMarked excerpts:\n${excerpts.map((t, i) => `Example ${i + 1}: ${t}`).join("\n")}` },
  ];
}

export function simulationMessages(explanation: string, examples: string[][]): ChatMessage[] {
  const body = examples.map((toks, i) => `Example ${i + 1} tokens (${toks.length}): ${JSON.stringify(toks)}`).join("\n");
  return [
    { role: "system", content: SIMULATION_SYSTEM },
    { role: "user", content: `Explanation: ${explanation}\n\n${body}` },
  ];
}

/** The follow-up sent once when an answer did not parse. */
export function formatReminder(kind: "explain" | "list" | "simulation"): string {
  if (kind === "explain") return "Your answer did not end with the required line. Reply with only: [EXPLANATION]: <your explanation>";
  if (kind === "list") return "Your answer did not contain the list. Reply with only the list of 0s and 1s, one per excerpt, like [1, 0, 1].";
  return "Your answer was not in the required form. Reply with only the lines `Example <n>: [integers]`, one integer per token.";
}

/** The last list of exactly n 0/1 values in the answer (brackets optional), or null. */
export function parseBinaryList(answer: string, n: number): number[] | null {
  const candidates: string[] = [];
  for (const m of answer.matchAll(/\[([^\[\]]*)\]/g)) candidates.push(m[1]);
  for (const line of answer.split(/\r?\n/)) if (/^[\s,;01]+$/.test(line) && /[01]/.test(line)) candidates.push(line);
  for (let i = candidates.length - 1; i >= 0; i--) {
    const parts = candidates[i].split(/[\s,;]+/).filter(Boolean);
    if (parts.length === n && parts.every((p) => p === "0" || p === "1")) return parts.map(Number);
  }
  return null;
}

export interface SimulationParse {
  /** Predicted 0-10 per token, per example. */
  values: number[][];
  /** Character span of each predicted number in the answer, for logprob alignment. */
  spans: { start: number; end: number }[][];
}

/** "Example k: [..]" lines; a list shorter or longer than its excerpt is padded with 0 / cut. null if an example is missing. */
export function parseSimulation(answer: string, lengths: number[]): SimulationParse | null {
  const values: number[][] = lengths.map(() => []);
  const spans: { start: number; end: number }[][] = lengths.map(() => []);
  const found = new Set<number>();
  for (const m of answer.matchAll(/Example\s+(\d+)\s*[:：]\s*\[([^\]]*)\]/gi)) {
    const k = Number(m[1]) - 1;
    if (k < 0 || k >= lengths.length || found.has(k)) continue;
    found.add(k);
    const listStart = m.index! + m[0].indexOf("[") + 1;
    for (const num of m[2].matchAll(/-?\d+(?:\.\d+)?/g)) {
      if (values[k].length >= lengths[k]) break;
      values[k].push(Math.min(10, Math.max(0, Number(num[0]))));
      spans[k].push({ start: listStart + num.index!, end: listStart + num.index! + num[0].length });
    }
  }
  if (found.size !== lengths.length) return null;
  for (let k = 0; k < lengths.length; k++) while (values[k].length < lengths[k]) values[k].push(0);
  return { values, spans };
}

/**
 * Expected value of each predicted number under the model's top logprobs (OpenAI's
 * simulator scores with the distribution, not the argmax). A number whose token cannot
 * be aligned keeps its parsed value. Returns null when no number could be aligned.
 */
export function expectedFromLogprobs(answer: string, parsed: SimulationParse, logprobs: TokenLogprob[]): number[][] | null {
  const byStart = new Map<number, TokenLogprob>();
  let offset = 0;
  for (const t of logprobs) {
    const lead = t.token.length - t.token.trimStart().length;
    byStart.set(offset + lead, t);
    offset += t.token.length;
  }
  if (offset !== answer.length) return null;
  let aligned = 0;
  const out = parsed.values.map((vals, k) =>
    vals.map((v, i) => {
      const span = parsed.spans[k][i];
      const tok = span ? byStart.get(span.start) : undefined;
      if (!tok || tok.token.trim() !== answer.slice(span.start, span.end)) return v;
      let mass = 0;
      let sum = 0;
      for (const alt of tok.top) {
        const s = alt.token.trim();
        if (!/^\d+$/.test(s) || Number(s) > 10) continue;
        const p = Math.exp(alt.logprob);
        mass += p;
        sum += p * Number(s);
      }
      if (mass <= 0) return v;
      aligned++;
      return sum / mass;
    }),
  );
  return aligned > 0 ? out : null;
}
