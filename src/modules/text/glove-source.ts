// The demo's "model": a word's activation is its GloVe vector, preprocessed exactly as the
// demo SAEs were trained (data/demo/README.md, scripts/demo-dataset/inputs.ts): minus the mean
// over every row of vectors.f16.bin, scaled to unit norm. Tokens follow the demo build's
// tokenizer (src/shared/word-tokens.ts), looked up lower-cased; a token outside the vocabulary
// (or a number, or punctuation) is a zero row, so no feature fires on it.
//
// The table (50,000 x 100 float16, 10 MB) is read on first use, not at server start.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { badInput } from "../../errors.ts";
import { packagePath } from "../../paths.ts";
import { decodeFloat16 } from "../../shared/float16.ts";
import { wordTokens } from "../../shared/word-tokens.ts";
import type { ActivationSource, HookRef, TokenActivations } from "./activation-source.ts";
import { checkTextLength, checkTokenCount, DEFAULT_TEXT_LIMITS, type TextLimits } from "./text-limits.ts";

export const GLOVE_SOURCE_NAME = "glove-wordnet";
/** What the demo SAEs' cfg.json says in metadata.model_name / hook_name. */
export const GLOVE_MODEL_NAME = "glove-6b-100d";
export const GLOVE_HOOK_NAME = "word_vectors";

export const DEMO_WORD_VECTORS_DIR = packagePath("data", "demo", "word-vectors");

export interface WordTable {
  dims: number;
  /** Row of each word in vectors. */
  index: Map<string, number>;
  /** count x dims, centred and unit-norm (the SAE's input). */
  vectors: Float32Array;
}

/** Reads vocab.txt, meta.json and vectors.f16.bin from dir and preprocesses the rows. */
export async function loadWordTable(dir: string): Promise<WordTable> {
  const [metaText, vocabText, bin] = await Promise.all([
    readFile(join(dir, "meta.json"), "utf8"),
    readFile(join(dir, "vocab.txt"), "utf8"),
    readFile(join(dir, "vectors.f16.bin")),
  ]);
  const meta = JSON.parse(metaText) as { count?: unknown; dims?: unknown; dtype?: unknown };
  const { count, dims } = meta;
  if (typeof count !== "number" || typeof dims !== "number" || meta.dtype !== "float16") {
    throw new Error(`${join(dir, "meta.json")}: expected numeric count and dims and dtype "float16"`);
  }
  const words = vocabText.split("\n").filter((w) => w.length > 0);
  if (words.length !== count) throw new Error(`${join(dir, "vocab.txt")}: ${words.length} words, meta.json says ${count}`);
  if (bin.length !== count * dims * 2) throw new Error(`${join(dir, "vectors.f16.bin")}: ${bin.length} bytes, expected ${count * dims * 2}`);
  const raw = decodeFloat16(bin);
  const index = new Map<string, number>();
  words.forEach((w, i) => {
    if (!index.has(w)) index.set(w, i);
  });
  return { dims, index, vectors: centreAndNormalise(raw, dims) };
}

/** Rows minus their mean (float64), each scaled to unit norm; a zero row stays zero. */
export function centreAndNormalise(raw: Float32Array, dims: number): Float32Array {
  const n = raw.length / dims;
  const mean = new Float64Array(dims);
  for (let i = 0; i < n; i++) for (let d = 0; d < dims; d++) mean[d]! += raw[i * dims + d]!;
  for (let d = 0; d < dims; d++) mean[d]! /= n;
  const out = new Float32Array(raw.length);
  const row = new Float64Array(dims);
  for (let i = 0; i < n; i++) {
    let ss = 0;
    for (let d = 0; d < dims; d++) {
      const v = raw[i * dims + d]! - mean[d]!;
      row[d] = v;
      ss += v * v;
    }
    const inv = 1 / Math.sqrt(ss || 1);
    for (let d = 0; d < dims; d++) out[i * dims + d] = row[d]! * inv;
  }
  return out;
}

export interface GloveSourceOptions {
  /** Folder with vocab.txt, meta.json, vectors.f16.bin (default: the shipped data/demo/word-vectors). */
  dir?: string;
  limits?: TextLimits;
}

export class GloveSource implements ActivationSource {
  readonly name = GLOVE_SOURCE_NAME;
  private readonly dir: string;
  private readonly limits: TextLimits;
  private table: Promise<WordTable> | null = null;

  constructor(opts: GloveSourceOptions = {}) {
    this.dir = opts.dir ?? DEMO_WORD_VECTORS_DIR;
    this.limits = opts.limits ?? DEFAULT_TEXT_LIMITS;
  }

  supports(hook: HookRef): boolean {
    return hook.modelName === GLOVE_MODEL_NAME && hook.hookName === GLOVE_HOOK_NAME;
  }

  /** The preprocessed table, loaded once (a failed load is retried on the next call). */
  words(): Promise<WordTable> {
    if (!this.table) {
      this.table = loadWordTable(this.dir);
      this.table.catch(() => (this.table = null));
    }
    return this.table;
  }

  async activate(text: string, hook: HookRef): Promise<TokenActivations> {
    checkTextLength(text, this.limits);
    const tokens = wordTokens(text);
    checkTokenCount(tokens.length, this.limits);
    const table = await this.words();
    if (!this.supports(hook)) {
      throw badInput(`${this.name} serves model ${GLOVE_MODEL_NAME} at hook ${GLOVE_HOOK_NAME}, not ${hook.modelName} at ${hook.hookName}`);
    }
    if (hook.dIn !== table.dims) throw badInput(`${this.name} gives ${table.dims}-d vectors; the SAE has d_in ${hook.dIn}`);
    const dIn = table.dims;
    const vectors = new Float32Array(tokens.length * dIn);
    tokens.forEach((t, i) => {
      const row = t.word === null ? undefined : table.index.get(t.word);
      if (row !== undefined) vectors.set(table.vectors.subarray(row * dIn, (row + 1) * dIn), i * dIn);
    });
    return { tokens: tokens.map((t) => t.text), vectors, dIn, tensor: `GloVe 6B 100d word vectors (${this.dir}), centred and unit-norm` };
  }

  async activateMany(texts: readonly string[], hook: HookRef): Promise<TokenActivations[]> {
    const out: TokenActivations[] = [];
    for (const t of texts) out.push(await this.activate(t, hook));
    return out;
  }
}
