// How much text one request may run through a model: a cap on characters (checked before
// tokenizing) and on tokens (checked after), both from the config (MONOSCOPE_TEXT_MAX_CHARS,
// MONOSCOPE_TEXT_MAX_TOKENS). Over either is BAD_USER_INPUT naming the argument.
import { badInput } from "../../errors.ts";

export interface TextLimits {
  readonly maxChars: number;
  readonly maxTokens: number;
}

export const DEFAULT_TEXT_LIMITS: TextLimits = Object.freeze({ maxChars: 8192, maxTokens: 512 });

export function checkTextLength(text: string, limits: TextLimits, arg = "text"): void {
  if (text.length > limits.maxChars) {
    throw badInput(`${arg} has ${text.length} characters; at most ${limits.maxChars} are allowed (MONOSCOPE_TEXT_MAX_CHARS)`, {
      arg,
      max: limits.maxChars,
    });
  }
}

export function checkTokenCount(tokens: number, limits: TextLimits, arg = "text"): void {
  if (tokens > limits.maxTokens) {
    throw badInput(`${arg} has ${tokens} tokens; at most ${limits.maxTokens} are allowed (MONOSCOPE_TEXT_MAX_TOKENS)`, {
      arg,
      max: limits.maxTokens,
    });
  }
}
