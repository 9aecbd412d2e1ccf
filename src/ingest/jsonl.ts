// Line-by-line JSON from a file, gzipped or not (by magic bytes, not by name),
// streamed so files larger than memory work. Errors name the file and line.
import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { createGunzip } from "node:zlib";
import { fileError } from "../errors.ts";

export async function isGzip(path: string): Promise<boolean> {
  const fd = await open(path, "r").catch((e: NodeJS.ErrnoException) => {
    throw fileError(path, "file", e.code === "ENOENT" ? "not found" : `cannot be read (${e.code})`);
  });
  try {
    const b = Buffer.alloc(2);
    const { bytesRead } = await fd.read(b, 0, 2, 0);
    return bytesRead === 2 && b[0] === 0x1f && b[1] === 0x8b;
  } finally {
    await fd.close();
  }
}

/** The whole (possibly gzipped) file as text, for single JSON documents. */
export async function readTextFile(path: string): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of await openStream(path)) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

async function openStream(path: string): Promise<NodeJS.ReadableStream> {
  const gz = await isGzip(path);
  const raw = createReadStream(path, { highWaterMark: 1 << 20 });
  if (!gz) return raw;
  // Large output chunks: the default 16 KiB makes gunzip ~15x slower (one thread-pool trip per chunk).
  const gunzip = createGunzip({ chunkSize: 1 << 20 });
  raw.on("error", (e) => gunzip.destroy(e));
  return raw.pipe(gunzip);
}

// JSON.parse turns a number literal beyond the float64 range (1e999) into ±Infinity, and later
// checks then print it as JSON.stringify does: "null is not a finite number", which the file
// never said. Such a literal needs an exponent of 3+ digits or 309+ digits, so this cheap test
// keeps the exact scan off the hot path.
const MAYBE_OVERFLOW = /[eE][+]?\d{3}|\d{309}/;

/** One JSON line parsed; invalid JSON or a number literal too large for a float64 is a one-line error naming where, the field and the literal. */
export function parseJsonLine(text: string, where: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw fileError(where, "json", `invalid JSON (${(e as Error).message})`);
  }
  if (MAYBE_OVERFLOW.test(text)) {
    const literal = overflowingLiteral(text);
    const field = literal === null ? null : pathOfInfinity(value);
    if (literal !== null && field !== null) {
      throw fileError(where, field, `${literal} is not a finite number (it is beyond the range of a 64-bit float)`);
    }
  }
  return value;
}

const NUMBER = /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/** The first number literal (outside strings) whose value overflows a float64, as written. */
export function overflowingLiteral(text: string): string | null {
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      for (i++; i < n && text.charCodeAt(i) !== 0x22; i++) if (text.charCodeAt(i) === 0x5c) i++;
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      NUMBER.lastIndex = i;
      const lit = NUMBER.exec(text)?.[0];
      if (lit === undefined) continue;
      if (!Number.isFinite(Number(lit))) return lit;
      i += lit.length - 1;
    }
  }
  return null;
}

/** Where the first ±Infinity sits in a parsed value ("values[1]", "activations[0].values[3]"), or null. */
function pathOfInfinity(value: unknown, path = "", depth = 0): string | null {
  if (typeof value === "number") return Number.isFinite(value) ? null : path || "value";
  if (depth > 100) return null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const p = pathOfInfinity(value[i], `${path}[${i}]`, depth + 1);
      if (p !== null) return p;
    }
  } else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      const p = pathOfInfinity(v, path ? `${path}.${k}` : k, depth + 1);
      if (p !== null) return p;
    }
  }
  return null;
}

export interface JsonLine {
  line: number;
  value: unknown;
}

/** Parsed non-blank lines; invalid JSON and broken gzip data are one-line errors. */
export async function* readJsonl(path: string): AsyncGenerator<JsonLine> {
  const stream = await openStream(path);
  let line = 0;
  let rest: Buffer | null = null;
  const parse = (text: string): JsonLine | null => {
    line++;
    if (text.trim() === "") return null;
    return { line, value: parseJsonLine(text, `${path}:${line}`) };
  };
  try {
    // Split on \n bytes ourselves: readline costs more than the JSON parsing.
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const buf: Buffer = rest ? Buffer.concat([rest, chunk]) : chunk;
      let start = 0;
      for (let nl = buf.indexOf(10, start); nl !== -1; nl = buf.indexOf(10, start)) {
        const end = nl > start && buf[nl - 1] === 13 ? nl - 1 : nl;
        const r = parse(buf.toString("utf8", start, end));
        if (r) yield r;
        start = nl + 1;
      }
      rest = start < buf.length ? buf.subarray(start) : null;
    }
    if (rest) {
      const r = parse(rest.toString("utf8"));
      if (r) yield r;
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "Z_DATA_ERROR" || code === "Z_BUF_ERROR" || code === "ERR_ZLIB") {
      throw fileError(path, "gzip", `corrupt or truncated compressed data after line ${line} (${(e as Error).message})`);
    }
    throw e;
  } finally {
    (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
  }
}

export interface JsonlBlock {
  /** Whole lines (each but possibly the file's last ends with \n), in memory of their own (transferable). */
  bytes: Buffer;
  /** Line number of the first line. */
  firstLine: number;
  /** Number of lines in the block. */
  lines: number;
}

/**
 * The file's lines in blocks of about blockBytes, unparsed, for parsing elsewhere (a worker
 * thread); line numbers as readJsonl counts them. Broken gzip data: the same one-line error.
 * alloc: memory for a block of that many bytes, not shared with anything else (callers recycle
 * the buffers of blocks they are done with).
 */
export async function* readJsonlBlocks(path: string, blockBytes = 1 << 20, alloc: (size: number) => Buffer = Buffer.allocUnsafeSlow): AsyncGenerator<JsonlBlock> {
  const stream = await openStream(path);
  let line = 0;
  let parts: Buffer[] = [];
  let size = 0;
  const take = (upTo: number): Buffer => {
    // Copy the first upTo bytes of parts into one unpooled buffer; the rest stays in parts.
    const out = alloc(upTo);
    let off = 0;
    const keep: Buffer[] = [];
    for (const p of parts) {
      if (off >= upTo) keep.push(p);
      else if (off + p.length <= upTo) {
        p.copy(out, off);
        off += p.length;
      } else {
        const k = upTo - off;
        p.copy(out, off, 0, k);
        off = upTo;
        keep.push(p.subarray(k));
      }
    }
    parts = keep;
    size -= upTo;
    return out;
  };
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      parts.push(chunk);
      size += chunk.length;
      if (size < blockBytes) continue;
      const last = chunk.lastIndexOf(10);
      if (last === -1) continue; // a very long line: keep collecting
      const bytes = take(size - (chunk.length - last - 1));
      const lines = countNewlines(bytes);
      const firstLine = line + 1;
      line += lines;
      yield { bytes, firstLine, lines };
    }
    if (size > 0) {
      const bytes = take(size);
      const lines = countNewlines(bytes) + (bytes[bytes.length - 1] === 10 ? 0 : 1);
      const firstLine = line + 1;
      line += lines;
      yield { bytes, firstLine, lines };
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "Z_DATA_ERROR" || code === "Z_BUF_ERROR" || code === "ERR_ZLIB") {
      // The complete lines before the damage first, as readJsonl would have parsed them.
      const all = Buffer.concat(parts);
      const last = all.lastIndexOf(10);
      if (last !== -1) {
        parts = [all];
        const bytes = take(last + 1);
        const lines = countNewlines(bytes);
        const firstLine = line + 1;
        line += lines;
        yield { bytes, firstLine, lines };
      }
      throw fileError(path, "gzip", `corrupt or truncated compressed data after line ${line} (${(e as Error).message})`);
    }
    throw e;
  } finally {
    (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
  }
}

function countNewlines(b: Buffer): number {
  let n = 0;
  for (let i = b.indexOf(10); i !== -1; i = b.indexOf(10, i + 1)) n++;
  return n;
}
