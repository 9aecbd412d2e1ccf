// One question to the model whose plain-text answer must parse: asked, and if the
// answer does not parse, asked once more with a format reminder; then given up on,
// keeping the raw text. Usage of every call counts (each was paid for).
import type { ChatMessage, ChatResult, LlmClient } from "./llm-client.ts";
import { estimateCost, type Usage } from "./pricing.ts";

export interface Asked<T> {
  value: T | null;
  /** The last answer's text (stored with a failure). */
  raw: string;
  usage: Usage;
  costUsd: number;
  calls: number;
  last: ChatResult | null;
  /** Set when the follow-up call itself failed (the first answer is kept in raw). */
  error?: string;
}

export interface AskOptions {
  model: string;
  maxTokens: number;
  reminder: string;
  topLogprobs?: number;
  signal?: AbortSignal;
}

export async function askParsed<T>(
  llm: LlmClient,
  messages: ChatMessage[],
  parse: (answer: ChatResult) => T | null,
  opts: AskOptions,
): Promise<Asked<T>> {
  const usage: Usage = { inputTokens: 0, outputTokens: 0 };
  const out: Asked<T> = { value: null, raw: "", usage, costUsd: 0, calls: 0, last: null };
  const call = async (msgs: ChatMessage[]) => {
    const r = await llm.chat({ model: opts.model, messages: msgs, maxTokens: opts.maxTokens, temperature: 0, topLogprobs: opts.topLogprobs }, { signal: opts.signal });
    out.calls++;
    usage.inputTokens += r.usage.inputTokens;
    usage.outputTokens += r.usage.outputTokens;
    out.costUsd = estimateCost(opts.model, usage);
    out.raw = r.text;
    out.last = r;
    return r;
  };
  const first = await call(messages);
  out.value = parse(first);
  if (out.value !== null) return out;
  let second: ChatResult;
  try {
    second = await call([...messages, { role: "assistant", content: first.text }, { role: "user", content: opts.reminder }]);
  } catch (e) {
    out.error = (e as Error).message;
    out.raw = first.text;
    return out;
  }
  out.value = parse(second);
  if (out.value === null && second.text.trim() === "") out.raw = first.text;
  return out;
}
