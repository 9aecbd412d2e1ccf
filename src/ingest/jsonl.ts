// Line-by-line JSON from a file, gzipped or not (by magic bytes, not by name),
// streamed so files larger than memory work. Errors name the file and line.
import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { createInterface } from "node:readline";
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
  const gunzip = createGunzip();
  raw.on("error", (e) => gunzip.destroy(e));
  return raw.pipe(gunzip);
}

export interface JsonLine {
  line: number;
  value: unknown;
}

/** Parsed non-blank lines; invalid JSON and broken gzip data are one-line errors. */
export async function* readJsonl(path: string): AsyncGenerator<JsonLine> {
  const stream = await openStream(path);
  const rl = createInterface({ input: stream as NodeJS.ReadableStream, crlfDelay: Infinity });
  let line = 0;
  try {
    for await (const text of rl) {
      line++;
      if (text.trim() === "") continue;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (e) {
        throw fileError(`${path}:${line}`, "json", `invalid JSON (${(e as Error).message})`);
      }
      yield { line, value };
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "Z_DATA_ERROR" || code === "Z_BUF_ERROR" || code === "ERR_ZLIB") {
      throw fileError(path, "gzip", `corrupt or truncated compressed data after line ${line} (${(e as Error).message})`);
    }
    throw e;
  } finally {
    rl.close();
  }
}
