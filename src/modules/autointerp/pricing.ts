// Estimated prices (USD per million tokens) for cost tracking and --max-cost.
// Public list prices at the time of writing; a model not listed (a local server,
// a fine-tune) is counted as free, and the run says so once.

export interface Price {
  input: number;
  output: number;
}

/** USD per 1M tokens. Longest matching prefix wins (dated snapshots share a price). */
const PRICES: Record<string, Price> = {
  "gpt-4o-mini": { input: 0.15, output: 0.6 },
  "gpt-4o": { input: 2.5, output: 10 },
  "gpt-4.1-nano": { input: 0.1, output: 0.4 },
  "gpt-4.1-mini": { input: 0.4, output: 1.6 },
  "gpt-4.1": { input: 2, output: 8 },
  "gpt-5-nano": { input: 0.05, output: 0.4 },
  "gpt-5-mini": { input: 0.25, output: 2 },
  "gpt-5": { input: 1.25, output: 10 },
  "o4-mini": { input: 1.1, output: 4.4 },
  "o3-mini": { input: 1.1, output: 4.4 },
  "gpt-3.5-turbo": { input: 0.5, output: 1.5 },
  "text-embedding-3-small": { input: 0.02, output: 0 },
  "text-embedding-3-large": { input: 0.13, output: 0 },
  "text-embedding-ada-002": { input: 0.1, output: 0 },
};

export function priceOf(model: string): Price | null {
  const name = model.replace(/^openai\//, "");
  let best: string | null = null;
  for (const key of Object.keys(PRICES)) {
    if ((name === key || name.startsWith(`${key}-`)) && (best === null || key.length > best.length)) best = key;
  }
  return best === null ? null : PRICES[best];
}

export interface Usage {
  inputTokens: number;
  outputTokens: number;
}

/** Estimated cost in USD; 0 for unknown models. */
export function estimateCost(model: string, usage: Usage): number {
  const p = priceOf(model);
  if (!p) return 0;
  return (usage.inputTokens * p.input + usage.outputTokens * p.output) / 1_000_000;
}

/** A rough upper bound before a call (~3 characters per token), used to keep --max-cost. */
export function estimateCostBefore(model: string, promptChars: number, maxOutputTokens: number): number {
  return estimateCost(model, { inputTokens: Math.ceil(promptChars / 3), outputTokens: maxOutputTokens });
}

export { formatUsd } from "./autointerp.constants.ts";
