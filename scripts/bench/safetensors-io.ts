// Reading W_dec out of SAELens checkpoints (F32/F16/BF16, by offset, never the whole file) and
// writing generated decoder sets as SAELens checkpoints (streamed, so 1M x 4096 fits on disk
// without fitting in memory), for the benchmarks that go through the real ingest.
import { closeSync, mkdirSync, openSync, readSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { decoderChunks, type RowPlan } from "./generator.ts";
import { toHalfBits } from "../../src/shared/float16.ts";

interface TensorInfo {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

export function readSafetensorsHeader(path: string): { header: Record<string, TensorInfo>; dataStart: number } {
  const fd = openSync(path, "r");
  try {
    const len = Buffer.alloc(8);
    readSync(fd, len, 0, 8, 0);
    const n = Number(len.readBigUInt64LE(0));
    const json = Buffer.alloc(n);
    readSync(fd, json, 0, n, 8);
    const header = JSON.parse(json.toString("utf8")) as Record<string, TensorInfo>;
    delete header.__metadata__;
    return { header, dataStart: 8 + n };
  } finally {
    closeSync(fd);
  }
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** One tensor as float32 (rows x cols for 2-D), read by offset. */
export function readTensor(path: string, name: string): { data: Float32Array; shape: number[] } {
  const { header, dataStart } = readSafetensorsHeader(path);
  const t = header[name];
  if (!t) throw new Error(`${path}: no tensor ${name}`);
  const count = t.shape.reduce((a, b) => a * b, 1);
  const bytes = t.data_offsets[1] - t.data_offsets[0];
  const buf = Buffer.alloc(bytes);
  const fd = openSync(path, "r");
  try {
    readSync(fd, buf, 0, bytes, dataStart + t.data_offsets[0]);
  } finally {
    closeSync(fd);
  }
  const out = new Float32Array(count);
  if (t.dtype === "F32") for (let i = 0; i < count; i++) out[i] = buf.readFloatLE(i * 4);
  else if (t.dtype === "F16") for (let i = 0; i < count; i++) out[i] = halfToFloat(buf.readUInt16LE(i * 2));
  else if (t.dtype === "BF16") {
    const u = new Uint32Array(1);
    const f = new Float32Array(u.buffer);
    for (let i = 0; i < count; i++) (u[0] = buf.readUInt16LE(i * 2) << 16), (out[i] = f[0]);
  } else throw new Error(`${path}: ${name} has dtype ${t.dtype}`);
  return { data: out, shape: t.shape };
}

/**
 * A standard-architecture SAELens checkpoint (cfg.json + F32 sae_weights.safetensors) of a generated
 * decoder set: W_dec = the plan's rows, W_enc = W_dec transposed (tied-like), b_enc = -0.1, b_dec = 0.
 * Written chunk by chunk.
 */
export function writeSaeLensCheckpoint(dir: string, plan: RowPlan, meta: { modelName?: string; hookName?: string; dtype?: "F32" | "F16" } = {}): void {
  const { n, d } = plan;
  // F16 halves the file (a 1M × 2304 checkpoint: 9.7 GB instead of 19 GB), as real releases ship.
  const half = meta.dtype === "F16";
  const el = half ? 2 : 4;
  const enc = (x: Float32Array, len: number) => {
    if (!half) return Buffer.from(x.buffer, x.byteOffset, len * 4);
    const b = Buffer.alloc(len * 2);
    for (let i = 0; i < len; i++) b.writeUInt16LE(toHalfBits(x[i]), 2 * i);
    return b;
  };
  mkdirSync(dir, { recursive: true });
  const tensors: Array<[string, number[]]> = [
    ["W_dec", [n, d]],
    ["W_enc", [d, n]],
    ["b_enc", [n]],
    ["b_dec", [d]],
  ];
  const header: Record<string, unknown> = { __metadata__: { format: "pt", generator: "monoscope scripts/bench/generator.ts" } };
  let off = 0;
  const offsets: Record<string, number> = {};
  for (const [name, shape] of tensors) {
    const bytes = shape.reduce((a, b) => a * b, 1) * el;
    header[name] = { dtype: half ? "F16" : "F32", shape, data_offsets: [off, off + bytes] };
    offsets[name] = off;
    off += bytes;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const start = 8 + Buffer.byteLength(json);
  const fd = openSync(join(dir, "sae_weights.safetensors"), "w");
  try {
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
    writeSync(fd, len, 0, 8, 0);
    writeSync(fd, Buffer.from(json, "utf8"), 0, Buffer.byteLength(json), 8);
    for (const chunk of decoderChunks(plan, 8192)) {
      const bytes = enc(chunk.data, chunk.rows * d);
      writeSync(fd, bytes, 0, bytes.length, start + offsets.W_dec + chunk.start * d * el);
      // W_enc[j, start..start+rows) = W_dec[start..start+rows, j]
      const col = new Float32Array(chunk.rows);
      for (let j = 0; j < d; j++) {
        for (let r = 0; r < chunk.rows; r++) col[r] = chunk.data[r * d + j];
        const colBytes = enc(col, chunk.rows);
        writeSync(fd, colBytes, 0, colBytes.length, start + offsets.W_enc + (j * n + chunk.start) * el);
      }
    }
    const bEnc = enc(new Float32Array(n).fill(-0.1), n);
    writeSync(fd, bEnc, 0, bEnc.length, start + offsets.b_enc);
    const bDec = Buffer.alloc(d * el);
    writeSync(fd, bDec, 0, bDec.length, start + offsets.b_dec);
  } finally {
    closeSync(fd);
  }
  const cfg = {
    architecture: "standard",
    d_in: d,
    d_sae: n,
    dtype: half ? "float16" : "float32",
    apply_b_dec_to_input: false,
    normalize_activations: "none",
    metadata: { model_name: meta.modelName ?? "synthetic", hook_name: meta.hookName ?? "blocks.0.hook_resid_pre" },
  };
  writeFileSync(join(dir, "cfg.json"), JSON.stringify(cfg, null, 2));
}
