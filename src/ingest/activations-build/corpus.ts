// The corpus of `activations build`: one text per line, streamed. A .txt file's lines are the
// texts; a .jsonl file's lines are {"text": …, "source"?: …}. Either may be gzipped (by magic
// bytes). Blank lines are skipped but still counted, so errors and sources name the real line.
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { createGunzip } from "node:zlib";
import { fileError } from "../../errors.ts";
import { isGzip, parseJsonLine } from "../jsonl.ts";

export interface CorpusText {
  /** 1-based line in the (decompressed) file. */
  line: number;
  text: string;
  source: string | null;
}

export type CorpusFormat = "txt" | "jsonl";

/** The format by name: .jsonl / .jsonl.gz / .ndjson are JSON lines, anything else plain text. */
export function corpusFormat(path: string): CorpusFormat {
  return /\.(jsonl|ndjson)(\.gz)?$/i.test(path) ? "jsonl" : "txt";
}

export async function* readCorpus(path: string, format = corpusFormat(path)): AsyncGenerator<CorpusText> {
  const gz = await isGzip(path);
  const raw = createReadStream(path, { highWaterMark: 1 << 20 });
  let input: NodeJS.ReadableStream = raw;
  if (gz) {
    const gunzip = createGunzip({ chunkSize: 1 << 20 });
    raw.on("error", (e) => gunzip.destroy(e));
    input = raw.pipe(gunzip);
  }
  const lines = createInterface({ input, crlfDelay: Infinity });
  let line = 0;
  for await (const l of lines) {
    line++;
    if (l.trim() === "") continue;
    if (format === "txt") {
      yield { line, text: l, source: null };
      continue;
    }
    const where = `${path}:${line}`;
    const v = parseJsonLine(l, where);
    if (v === null || typeof v !== "object" || Array.isArray(v)) throw fileError(where, "line", 'must be a JSON object {"text": …}');
    const o = v as Record<string, unknown>;
    if (typeof o.text !== "string") throw fileError(where, "text", o.text === undefined ? "is missing" : "must be a string");
    if (o.source !== undefined && o.source !== null && typeof o.source !== "string") throw fileError(where, "source", "must be a string");
    yield { line, text: o.text, source: (o.source as string | null | undefined) ?? null };
  }
}
