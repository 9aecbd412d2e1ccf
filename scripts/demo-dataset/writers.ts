// Output formats: SAELens directories (cfg.json + safetensors), activation JSONL (gzipped),
// and the word-vector table for the offline concept-search embedder.
import { createWriteStream, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { once } from "node:events";
import { createGzip } from "node:zlib";
import type { FeatureExamples } from "./contexts.ts";
import { toHalfBytes } from "./float16.ts";
import type { TopKSae } from "./topk-sae.ts";

interface Tensor {
  shape: number[];
  data: Float32Array;
}

/** safetensors: u64 LE header length, JSON header (8-byte aligned with spaces), F16 LE data. */
export function safetensorsBytes(tensors: Record<string, Tensor>, metadata: Record<string, string>): Buffer {
  const header: Record<string, unknown> = { __metadata__: metadata };
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const bytes = toHalfBytes(t.data);
    header[name] = { dtype: "F16", shape: t.shape, data_offsets: [offset, offset + bytes.length] };
    parts.push(bytes);
    offset += bytes.length;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  return Buffer.concat([len, Buffer.from(json), ...parts]);
}

/** SAELens stores W_enc as [d_in, d_sae]; we train with its transpose. */
function transpose(m: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(m.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = m[r * cols + c];
  return out;
}

export function writeSaeLensDir(dir: string, sae: TopKSae, cfgExtra: { metadata: Record<string, unknown> }): void {
  mkdirSync(dir, { recursive: true });
  const cfg = {
    architecture: "topk",
    d_in: sae.dIn,
    d_sae: sae.dSae,
    k: sae.k,
    dtype: "float16",
    device: "cpu",
    apply_b_dec_to_input: true,
    normalize_activations: "none",
    ...cfgExtra,
  };
  writeFileSync(join(dir, "cfg.json"), JSON.stringify(cfg, null, 2) + "\n");
  const tensors = {
    W_enc: { shape: [sae.dIn, sae.dSae], data: transpose(sae.encT, sae.dSae, sae.dIn) },
    W_dec: { shape: [sae.dSae, sae.dIn], data: sae.dec },
    b_enc: { shape: [sae.dSae], data: sae.bEnc },
    b_dec: { shape: [sae.dIn], data: sae.bDec },
  };
  writeFileSync(join(dir, "sae_weights.safetensors"), safetensorsBytes(tensors, { format: "pt" }));
}

/** Native activation JSONL: a feature line, then that feature's example lines. */
export async function writeActivations(file: string, features: Iterable<FeatureExamples>): Promise<{ features: number; examples: number }> {
  const gzip = createGzip({ level: 9 });
  const out = createWriteStream(file);
  gzip.pipe(out);
  let buffer = "";
  let nFeatures = 0, nExamples = 0;
  const flush = async () => {
    if (!gzip.write(buffer)) await once(gzip, "drain");
    buffer = "";
  };
  for (const f of features) {
    nFeatures++;
    buffer += JSON.stringify({ type: "feature", index: f.index, density: Number(f.density.toPrecision(4)), maxActivation: f.maxActivation }) + "\n";
    for (const e of f.examples) {
      nExamples++;
      buffer += JSON.stringify({ type: "activation", index: f.index, ...e }) + "\n";
    }
    if (buffer.length > 1 << 20) await flush();
  }
  await flush();
  gzip.end();
  await once(out, "finish");
  return { features: nFeatures, examples: nExamples };
}

export function writeWordVectors(dir: string, words: string[], vectors: Float32Array, dims: number, meta: Record<string, unknown>): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "vocab.txt"), words.join("\n") + "\n");
  writeFileSync(join(dir, "vectors.f16.bin"), toHalfBytes(vectors));
  const info = { count: words.length, dims, dtype: "float16", byteOrder: "little-endian", layout: "row-major, count x dims", ...meta };
  writeFileSync(join(dir, "meta.json"), JSON.stringify(info, null, 2) + "\n");
}
