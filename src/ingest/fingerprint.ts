// Content fingerprints of input artifacts: re-ingesting the same files is a no-op.
// Files up to FULL_HASH_LIMIT are hashed whole; larger ones (multi-GB checkpoints)
// by their size, their first MiB (the safetensors header lives there) and 64
// evenly spaced 1 MiB samples, which changes with any retrained or edited tensor
// while costing a few reads instead of a second pass over gigabytes.
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { open, stat } from "node:fs/promises";
import { basename } from "node:path";

const FULL_HASH_LIMIT = 256 << 20;
const SAMPLE = 1 << 20;
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
      const buf = Buffer.alloc(SAMPLE);
      const positions = [0];
      for (let i = 1; i <= SAMPLES; i++) positions.push(Math.floor(((size - SAMPLE) * i) / SAMPLES));
      for (const pos of positions) {
        const { bytesRead } = await fd.read(buf, 0, SAMPLE, pos);
        h.update(buf.subarray(0, bytesRead));
      }
    } finally {
      await fd.close();
    }
  }
  return `sha256:${h.digest("hex")}`;
}
