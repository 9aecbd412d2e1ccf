// The demo's tokenizer: a word (ASCII letters), a run of digits, or one other non-space
// character, each with the whitespace before it, so tokens.join("") gives the text back
// (less trailing whitespace). The demo build (scripts/demo-dataset/wordnet.ts) tokenized
// the WordNet contexts with it, and the glove-wordnet source tokenizes user text with it:
// one pattern, so the shipped examples and a typed text split the same way.

export const WORD_TOKEN = /\s*(?:([A-Za-z]+)|[0-9]+|[^\sA-Za-z0-9])/g;

export interface WordToken {
  /** The token as it appears in the text, with its leading whitespace. */
  text: string;
  /** The lower-cased word for a word token, else null (numbers, punctuation). */
  word: string | null;
}

export function wordTokens(text: string): WordToken[] {
  const out: WordToken[] = [];
  for (const m of text.matchAll(WORD_TOKEN)) out.push({ text: m[0], word: m[1] ? m[1].toLowerCase() : null });
  return out;
}
