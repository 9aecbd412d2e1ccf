// Writes safetensors files (tests, the malformed corpus, benchmarks, exports).
// Streams tensor data so large synthetic checkpoints need little memory.
import { createWriteStream } from "node:fs";
import { once } from "node:events";
import { toHalfBits } from "../../shared/float16.ts";

export type WriteDtype = "F32" | "F16" | "BF16";

export interface TensorSpec {
  dtype: WriteDtype;
  shape: number[];
  /** Element i of the tensor (row-major), or the whole data. */
  data: ((i: number) => number) | ArrayLike<number>;
}

const BYTES: Record<WriteDtype, number> = { F32: 4, F16: 2, BF16: 2 };

export function safetensorsHeader(tensors: Record<string, Pick<TensorSpec, "dtype" | "shape">>, metadata?: Record<string, string>) {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const n = t.shape.reduce((a, b) => a * b, 1) * BYTES[t.dtype];
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + n] };
    offset += n;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - (json.length % 8)) % 8); // aligned data, as the reference writer does
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  return Buffer.concat([len, Buffer.from(json)]);
}

export async function writeSafetensors(path: string, tensors: Record<string, TensorSpec>, metadata?: Record<string, string>): Promise<void> {
  const out = createWriteStream(path);
  const write = async (b: Buffer) => {
    if (!out.write(b)) await once(out, "drain");
  };
  await write(safetensorsHeader(tensors, metadata));
  const f32 = new Float32Array(1);
  const u32 = new Uint32Array(f32.buffer);
  for (const t of Object.values(tensors)) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    const bytes = BYTES[t.dtype];
    const get = typeof t.data === "function" ? t.data : (i: number) => (t.data as ArrayLike<number>)[i]!;
    const chunkElems = 1 << 18;
    for (let s = 0; s < n; s += chunkElems) {
      const m = Math.min(chunkElems, n - s);
      const buf = Buffer.allocUnsafe(m * bytes);
      for (let i = 0; i < m; i++) {
        const v = get(s + i);
        if (t.dtype === "F32") buf.writeFloatLE(v, i * 4);
        else if (t.dtype === "F16") buf.writeUInt16LE(toHalfBits(v), i * 2);
        else {
          f32[0] = v;
          buf.writeUInt16LE(u32[0]! >>> 16, i * 2); // truncation, enough for test data
        }
      }
      await write(buf);
    }
  }
  out.end();
  await once(out, "finish");
}
