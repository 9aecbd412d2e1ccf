// An independent float64 reference for the demo's text path, for tests: it imports nothing
// from src/. It reads the shipped word vectors (float16) and a demo SAE's safetensors itself,
// preprocesses as data/demo/README.md says (minus the mean over all rows, unit norm), and runs
// the TopK encoder of cfg.json: pre = W_enc·(x − b_dec) + b_enc, the k largest, ReLU.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";

export const DEMO_DIR = join(import.meta.dirname, "..", "..", "data", "demo");

function half(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

function halves(buf: Buffer, from: number, to: number): Float64Array {
  const out = new Float64Array((to - from) / 2);
  for (let i = 0; i < out.length; i++) out[i] = half(buf.readUInt16LE(from + 2 * i));
  return out;
}

export interface ReferenceWords {
  dims: number;
  index: Map<string, number>;
  /** Centred, unit-norm rows, float64. */
  rows: Float64Array[];
}

export function referenceWords(): ReferenceWords {
  const dir = join(DEMO_DIR, "word-vectors");
  const meta = JSON.parse(readFileSync(join(dir, "meta.json"), "utf8")) as { count: number; dims: number };
  const words = readFileSync(join(dir, "vocab.txt"), "utf8").split("\n").filter(Boolean);
  const all = halves(readFileSync(join(dir, "vectors.f16.bin")), 0, meta.count * meta.dims * 2);
  const d = meta.dims;
  const mean = new Float64Array(d);
  for (let i = 0; i < meta.count; i++) for (let j = 0; j < d; j++) mean[j] += all[i * d + j] / meta.count;
  const rows: Float64Array[] = [];
  for (let i = 0; i < meta.count; i++) {
    const r = new Float64Array(d);
    for (let j = 0; j < d; j++) r[j] = all[i * d + j] - mean[j];
    const n = Math.hypot(...r);
    for (let j = 0; j < d; j++) r[j] /= n;
    rows.push(r);
  }
  const index = new Map<string, number>();
  words.forEach((w, i) => index.set(w, i));
  return { dims: d, index, rows };
}

/** Tokens as the demo build splits them: words, digit runs, single other characters, each with leading space. */
export function referenceTokens(text: string): { text: string; word: string | null }[] {
  return [...text.matchAll(/\s*(?:([A-Za-z]+)|[0-9]+|[^\sA-Za-z0-9])/g)].map((m) => ({ text: m[0], word: m[1]?.toLowerCase() ?? null }));
}

export interface ReferenceSae {
  dIn: number;
  dSae: number;
  k: number;
  /** W_enc as [dIn][dSae]. */
  wEnc: Float64Array;
  bEnc: Float64Array;
  bDec: Float64Array;
}

export function referenceSae(dSae: number): ReferenceSae {
  const dir = join(DEMO_DIR, "saes", String(dSae));
  const cfg = JSON.parse(readFileSync(join(dir, "cfg.json"), "utf8")) as { architecture: string; k: number; d_in: number; d_sae: number };
  if (cfg.architecture !== "topk") throw new Error(`expected a topk SAE, got ${cfg.architecture}`);
  const buf = readFileSync(join(dir, "sae_weights.safetensors"));
  const hl = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + hl).toString("utf8")) as Record<string, { dtype: string; data_offsets: [number, number] }>;
  const tensor = (name: string) => {
    const t = header[name]!;
    if (t.dtype !== "F16") throw new Error(`${name} is ${t.dtype}`);
    return halves(buf, 8 + hl + t.data_offsets[0], 8 + hl + t.data_offsets[1]);
  };
  return { dIn: cfg.d_in, dSae: cfg.d_sae, k: cfg.k, wEnc: tensor("W_enc"), bEnc: tensor("b_enc"), bDec: tensor("b_dec") };
}

/** Every firing feature of x (index → activation): the k largest pre-activations, ReLU. */
export function referenceEncode(sae: ReferenceSae, x: Float64Array): Map<number, number> {
  const pre = Float64Array.from(sae.bEnc);
  for (let i = 0; i < sae.dIn; i++) {
    const xi = x[i] - sae.bDec[i];
    const o = i * sae.dSae;
    for (let f = 0; f < sae.dSae; f++) pre[f] += sae.wEnc[o + f] * xi;
  }
  const order = [...pre.keys()].sort((a, b) => pre[b] - pre[a] || a - b).slice(0, sae.k);
  return new Map(order.filter((f) => pre[f] > 0).map((f) => [f, pre[f]]));
}

/** Per token of text: its firing features, strongest first (empty for a token outside the vocabulary). */
export function referenceActivateText(words: ReferenceWords, sae: ReferenceSae, text: string) {
  return referenceTokens(text).map((t) => {
    const row = t.word === null ? undefined : words.index.get(t.word);
    const hits = row === undefined ? new Map<number, number>() : referenceEncode(sae, words.rows[row]);
    return { token: t.text, features: [...hits].map(([index, activation]) => ({ index, activation })) };
  });
}

export interface ShippedExample {
  index: number;
  tokens: string[];
  values: number[];
  source: string | null;
}

/** The first `limit` activation lines of a demo SAE's shipped activations.jsonl.gz. */
export function shippedExamples(dSae: number, limit: number): ShippedExample[] {
  const lines = gunzipSync(readFileSync(join(DEMO_DIR, "saes", String(dSae), "activations.jsonl.gz"))).toString("utf8").split("\n");
  const out: ShippedExample[] = [];
  for (const line of lines) {
    if (!line.includes('"type":"activation"')) continue;
    const r = JSON.parse(line) as ShippedExample;
    out.push({ index: r.index, tokens: r.tokens, values: r.values, source: r.source ?? null });
    if (out.length === limit) break;
  }
  return out;
}
