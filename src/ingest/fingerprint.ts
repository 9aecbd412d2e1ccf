// Content fingerprints of input artifacts: re-ingesting the same files is a no-op.
// Files up to FULL_HASH_LIMIT are hashed whole; larger ones (checkpoints reach many GB)
// by their size, their first MiB (the safetensors header lives there) and 64 evenly
// spaced 64 KiB samples including the end. Any retrained or re-exported tensor changes
// them, at the cost of a few reads instead of a second pass over the whole file; a
// hand-patched single value could slip through, which is what --replace is for.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { open, stat } from "node:fs/promises";
import { basename } from "node:path";

const FULL_HASH_LIMIT = 16 << 20;
const HEAD = 1 << 20;
const SAMPLE = 64 << 10;
const SAMPLES = 64;

export async function fingerprintFiles(files: readonly string[]): Promise<string> {
  const h = createHash("sha256");
  for (const file of [...files].sort()) {
    const { size } = await stat(file);
    h.update(`${basename(file)}\0${size}\0`);
    if (size <= FULL_HASH_LIMIT) {
      for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
      continue;
    }
    const fd = await open(file, "r");
    try {
      const buf = Buffer.alloc(HEAD);
      const reads: [number, number][] = [[0, HEAD]];
      for (let i = 1; i <= SAMPLES; i++) reads.push([Math.floor(((size - SAMPLE) * i) / SAMPLES), SAMPLE]);
      for (const [pos, len] of reads) {
        const { bytesRead } = await fd.read(buf, 0, len, pos);
        h.update(buf.subarray(0, bytesRead));
      }
    } finally {
      await fd.close();
    }
  }
  return `sha256:${h.digest("hex")}`;
}
