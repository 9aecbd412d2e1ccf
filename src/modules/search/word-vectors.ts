// The demo build's word-vector table (data/demo/word-vectors): vocab.txt (one word per
// line, most frequent first), vectors.f16.bin (little-endian float16, count x dim, raw
// GloVe) and meta.json. Read once per process by the offline embedder.
import { decodeFloat16 } from "../../shared/float16.ts";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { AppError, ErrorCode, fileError } from "../../errors.ts";
import { packagePath } from "../../paths.ts";

export const DEFAULT_WORD_VECTORS_DIR = packagePath("data", "demo", "word-vectors");

export interface WordTable {
  /** Words in frequency order (rank 0 = most frequent). */
  readonly words: readonly string[];
  readonly index: ReadonlyMap<string, number>;
  readonly dim: number;
  /** Row-major count x dim. */
  readonly vectors: Float32Array;
  /** sha256 of vocab + vectors: identifies the table an embedding was made with. */
  readonly hash: string;
}

export function loadWordTable(dir: string = DEFAULT_WORD_VECTORS_DIR): WordTable {
  const vocabFile = join(dir, "vocab.txt");
  const vecFile = join(dir, "vectors.f16.bin");
  if (!existsSync(vocabFile) || !existsSync(vecFile)) {
    throw new AppError(
      ErrorCode.BAD_USER_INPUT,
      `the offline embedder needs the word-vector table in ${dir} (vocab.txt, vectors.f16.bin): build it with \`npm run build:demo\``,
    );
  }
  const vocabText = readFileSync(vocabFile, "utf8");
  const words = vocabText.split("\n").map((w) => w.trim());
  while (words.length && words[words.length - 1] === "") words.pop();
  const raw = readFileSync(vecFile);
  if (words.length === 0) throw fileError(vocabFile, "words", "the vocabulary is empty");
  if (raw.length % (2 * words.length) !== 0) {
    throw fileError(vecFile, "size", `${raw.length} bytes is not a whole number of float16 rows for ${words.length} words`);
  }
  const dim = raw.length / (2 * words.length);
  const metaFile = join(dir, "meta.json");
  if (existsSync(metaFile)) {
    const meta = JSON.parse(readFileSync(metaFile, "utf8")) as { dim?: number; dims?: number };
    const declared = meta.dim ?? meta.dims;
    if (declared !== undefined && declared !== dim) throw fileError(metaFile, "dim", `says ${declared} but the vectors have ${dim} columns`);
  }
  const vectors = decodeFloat16(new Uint8Array(raw.buffer, raw.byteOffset, raw.length));
  const index = new Map<string, number>();
  // Keep the first (most frequent) occurrence should a word repeat.
  words.forEach((w, i) => {
    if (w && !index.has(w)) index.set(w, i);
  });
  const hash = createHash("sha256").update(vocabText).update(raw).digest("hex");
  return { words, index, dim, vectors, hash };
}

/** Lower-cased alphabetic words; apostrophes and digits split words. */
export function tokenizeWords(text: string): string[] {
  return text
    .toLowerCase()
    .split(/[^a-z]+/)
    .filter((w) => w.length > 0);
}

/**
 * The table row for a word, trying simple inflections when the word itself is missing
 * (labels and queries use plurals and -ing forms more freely than the top-50k list holds).
 */
export function lookupWord(table: WordTable, word: string): number | undefined {
  const direct = table.index.get(word);
  if (direct !== undefined) return direct;
  const candidates: string[] = [];
  if (word.endsWith("ies")) candidates.push(word.slice(0, -3) + "y");
  if (word.endsWith("es")) candidates.push(word.slice(0, -2));
  if (word.endsWith("s")) candidates.push(word.slice(0, -1));
  if (word.endsWith("ing")) candidates.push(word.slice(0, -3), word.slice(0, -3) + "e");
  if (word.endsWith("ed")) candidates.push(word.slice(0, -2), word.slice(0, -1));
  if (word.endsWith("ly")) candidates.push(word.slice(0, -2));
  for (const c of candidates) {
    const i = c.length > 1 ? table.index.get(c) : undefined;
    if (i !== undefined) return i;
  }
  return correctSpelling(table, word);
}

/**
 * The most frequent table word one edit away (insert, delete, substitute or swap two
 * neighbours; two edits for words of 8+ letters), for typed queries ("presidnets").
 * Short words are left alone: at 3 letters nearly everything is one edit from something.
 */
export function correctSpelling(table: WordTable, word: string): number | undefined {
  if (word.length < 4) return undefined;
  const maxEdits = word.length >= 8 ? 2 : 1;
  for (let r = 0; r < table.words.length; r++) {
    const w = table.words[r];
    if (Math.abs(w.length - word.length) <= maxEdits && editDistance(word, w, maxEdits) <= maxEdits) return r;
  }
  return undefined;
}

/** Optimal-string-alignment distance, giving up (returning max + 1) once it exceeds max. */
export function editDistance(a: string, b: string, max: number): number {
  const n = a.length;
  const m = b.length;
  let prev2 = new Array<number>(m + 1).fill(0);
  let prev = Array.from({ length: m + 1 }, (_, j) => j);
  for (let i = 1; i <= n; i++) {
    const cur = new Array<number>(m + 1);
    cur[0] = i;
    let rowMin = cur[0];
    for (let j = 1; j <= m; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, prev2[j - 2] + 1);
      cur[j] = v;
      if (v < rowMin) rowMin = v;
    }
    if (rowMin > max) return max + 1;
    prev2 = prev;
    prev = cur;
  }
  return prev[m];
}
