// A safetensors reader that never loads a whole file: the header is parsed and
// checked against the file size up front, then tensors are read by offset, a block
// of rows (or a strided column slice) at a time. Checkpoints reach several GB,
// beyond Node's Buffer limit. Format: 8-byte little-endian header length N, N bytes
// of JSON (name -> {dtype, shape, data_offsets}; optional __metadata__), then data.
import { type FileHandle, open } from "node:fs/promises";
import { fileError } from "../../errors.ts";
import { halfToFloatTable } from "../../shared/float16.ts";

export type SafetensorsDtype = "F32" | "F16" | "BF16" | "F64";
const BYTES: Record<SafetensorsDtype, number> = { F32: 4, F16: 2, BF16: 2, F64: 8 };
/** Headers above this are not checkpoints (the real ones are a few KB). */
const MAX_HEADER = 100 << 20;

export interface TensorInfo {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  /** Absolute byte offsets in the file. */
  begin: number;
  end: number;
}

export class SafetensorsFile {
  private constructor(
    readonly path: string,
    private readonly fd: FileHandle,
    readonly size: number,
    readonly tensors: Map<string, TensorInfo>,
    readonly metadata: Record<string, string>,
  ) {}

  static async open(path: string): Promise<SafetensorsFile> {
    let fd: FileHandle;
    try {
      fd = await open(path, "r");
    } catch (e) {
      throw fileError(path, "file", `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    try {
      const { size } = await fd.stat();
      if (size < 8) throw fileError(path, "header", `file is ${size} bytes, too short for the 8-byte header length (truncated?)`);
      const lenBuf = Buffer.alloc(8);
      await fd.read(lenBuf, 0, 8, 0);
      const n = lenBuf.readBigUInt64LE(0);
      if (n > BigInt(size - 8)) throw fileError(path, "header", `header length ${n} runs beyond the end of the file (${size} bytes; truncated?)`);
      if (n > BigInt(MAX_HEADER)) throw fileError(path, "header", `header length ${n} is implausibly large`);
      const headerBuf = Buffer.alloc(Number(n));
      await fd.read(headerBuf, 0, headerBuf.length, 8);
      let header: unknown;
      try {
        header = JSON.parse(headerBuf.toString("utf8"));
      } catch (e) {
        throw fileError(path, "header", `is not valid JSON (${(e as Error).message})`);
      }
      if (!header || typeof header !== "object" || Array.isArray(header)) throw fileError(path, "header", "is not a JSON object");
      const dataStart = 8 + Number(n);
      const tensors = new Map<string, TensorInfo>();
      let metadata: Record<string, string> = {};
      for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
        if (name === "__metadata__") {
          if (raw && typeof raw === "object") metadata = raw as Record<string, string>;
          continue;
        }
        tensors.set(name, parseEntry(path, name, raw, dataStart, size));
      }
      return new SafetensorsFile(path, fd, size, tensors, metadata);
    } catch (e) {
      await fd.close();
      throw e;
    }
  }

  get(name: string): TensorInfo | undefined {
    return this.tensors.get(name);
  }

  /** The tensor, which must exist with exactly this shape (the shape's origin is named in errors). */
  require(name: string, shape: number[], against: string): TensorInfo {
    const t = this.tensors.get(name);
    if (!t) throw fileError(this.path, name, `tensor is missing (found: ${[...this.tensors.keys()].join(", ") || "none"})`);
    this.checkShape(t, shape, against);
    return t;
  }

  checkShape(t: TensorInfo, shape: number[], against: string): void {
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      throw fileError(this.path, t.name, `shape [${t.shape.join(", ")}] does not match ${against}: expected [${shape.join(", ")}]`);
    }
  }

  /** Rows [row, row + count) of a 2-D tensor (or elements of a 1-D one) as float32, row-major. */
  async readRows(t: TensorInfo, row: number, count: number): Promise<Float32Array> {
    const width = t.shape.length > 1 ? t.shape.slice(1).reduce((a, b) => a * b, 1) : 1;
    return this.readElements(t, row * width, count * width);
  }

  /**
   * Columns [col, col + count) of a 2-D tensor [rows, cols], transposed: result[c * rows + r] = t[r][col + c].
   * One positioned read per row (W_enc [d_in, d_sae] -> encoder columns of a batch of features).
   */
  async readColumns(t: TensorInfo, col: number, count: number): Promise<Float32Array> {
    const [rows, cols] = t.shape as [number, number];
    const out = new Float32Array(rows * count);
    const BLOCK = 16;
    for (let r0 = 0; r0 < rows; r0 += BLOCK) {
      const nr = Math.min(BLOCK, rows - r0);
      const slices = await Promise.all(Array.from({ length: nr }, (_, i) => this.readElements(t, (r0 + i) * cols + col, count)));
      // Transpose a block of rows at a time, so writes land in short contiguous runs.
      for (let c = 0; c < count; c++) {
        const o = c * rows + r0;
        for (let i = 0; i < nr; i++) out[o + i] = slices[i]![c]!;
      }
    }
    return out;
  }

  /**
   * Columns [col, col + count) of a 2-D tensor [rows, cols] as they lie in the file:
   * result[r * count + c] = t[r][col + c] (callers gather per column).
   */
  async readColumnBlock(t: TensorInfo, col: number, count: number): Promise<Float32Array> {
    const [rows, cols] = t.shape as [number, number];
    const out = new Float32Array(rows * count);
    const BLOCK = 16;
    for (let r0 = 0; r0 < rows; r0 += BLOCK) {
      const nr = Math.min(BLOCK, rows - r0);
      const slices = await Promise.all(Array.from({ length: nr }, (_, i) => this.readElements(t, (r0 + i) * cols + col, count)));
      for (let i = 0; i < nr; i++) out.set(slices[i]!, (r0 + i) * count);
    }
    return out;
  }

  private async readElements(t: TensorInfo, start: number, count: number): Promise<Float32Array> {
    const bytes = BYTES[t.dtype];
    const pos = t.begin + start * bytes;
    const len = count * bytes;
    if (start < 0 || pos + len > t.end) throw new Error(`invariant failed: read beyond tensor ${t.name}`);
    const raw = new Uint8Array(len);
    let got = 0;
    while (got < len) {
      const { bytesRead } = await this.fd.read(raw, got, len - got, pos + got);
      if (bytesRead === 0) throw fileError(this.path, t.name, `file ended at byte ${pos + got} while reading (truncated or changed during ingest?)`);
      got += bytesRead;
    }
    return decode(t.dtype, raw, count);
  }

  async close(): Promise<void> {
    await this.fd.close();
  }
}

function parseEntry(path: string, name: string, raw: unknown, dataStart: number, size: number): TensorInfo {
  const e = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
  if (!e || typeof e !== "object") throw fileError(path, name, "header entry is not an object");
  if (typeof e.dtype !== "string" || !(e.dtype in BYTES)) {
    throw fileError(path, name, `unknown dtype ${JSON.stringify(e.dtype)} (supported: F32, F16, BF16, F64)`);
  }
  const dtype = e.dtype as SafetensorsDtype;
  if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw fileError(path, name, `shape ${JSON.stringify(e.shape)} is not a list of non-negative integers`);
  }
  const shape = e.shape as number[];
  const off = e.data_offsets;
  if (!Array.isArray(off) || off.length !== 2 || !off.every((x) => Number.isSafeInteger(x) && x >= 0) || off[0] > off[1]) {
    throw fileError(path, name, `data_offsets ${JSON.stringify(off)} is not [begin, end]`);
  }
  const numel = shape.reduce((a, b) => a * b, 1);
  const expected = numel * BYTES[dtype];
  if (off[1] - off[0] !== expected) {
    throw fileError(path, name, `data_offsets span ${off[1] - off[0]} bytes, but ${dtype} [${shape.join(", ")}] needs ${expected}`);
  }
  const begin = dataStart + off[0];
  const end = dataStart + off[1];
  if (end > size) throw fileError(path, name, `data ends at byte ${end}, beyond the end of the file (${size} bytes; truncated?)`);
  return { name, dtype, shape, begin, end };
}

function decode(dtype: SafetensorsDtype, raw: Uint8Array, count: number): Float32Array {
  // Safetensors data is little-endian, like every host Node runs on that we support.
  const aligned = raw.byteOffset === 0 ? raw.buffer : raw.slice().buffer;
  switch (dtype) {
    case "F32":
      return new Float32Array(aligned, 0, count);
    case "F64":
      return Float32Array.from(new Float64Array(aligned, 0, count));
    case "F16": {
      const h = new Uint16Array(aligned, 0, count);
      const table = halfToFloatTable();
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = table[h[i]!]!;
      return out;
    }
    case "BF16": {
      const h = new Uint16Array(aligned, 0, count);
      const out = new Float32Array(count);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < count; i++) bits[i] = h[i]! << 16;
      return out;
    }
  }
}
