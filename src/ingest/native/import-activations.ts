// `monoscope ingest activations <file.jsonl[.gz]> --sae <id>`: Monoscope's own format
// (README, "Native activation format"). One JSON object per line:
//   {"type":"feature","index":12,"density":0.0012,"maxActivation":3.2}
//   {"type":"activation","index":12,"tokens":["the","cat"],"values":[0,1.5],"kind":"top","binMin":null,"binMax":null,"source":"..."}
//   {"type":"explanation","index":12,"text":"cats","method":"imported","explainerModel":null}
// type defaults to "activation", kind to "top"; ordinals follow the order of appearance per feature.
// Everything lands in one transaction on the existing SAE.
//
// The file is read in blocks of whole lines; each block is parsed, checked and encoded into
// activation COPY tuples (activation-block.ts), in worker threads for large files on machines
// with cores to spare (startPool), and the blocks are handed to the session strictly in file
// order: it assigns the ordinals and writes the tuples, so the result, and the first error
// reported, do not depend on the workers.
import { stat } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { EncodePool } from "../bulk/encode-pool.ts";
import { fingerprintFiles } from "../fingerprint.ts";
import type { IngestOptions, IngestService } from "../ingest.service.ts";
import type { ExplanationRow, FeatureRow, IngestSink, IngestSummary, TupleImage } from "../ingest.types.ts";
import { isGzip, type JsonlBlock, readJsonlBlocks } from "../jsonl.ts";
import { DEFAULT_IMAGE_MAX_BYTES } from "../../modules/image/image.service.ts";
import { type ActivationBlockResult, blockError, encodeActivationBlock } from "./activation-block.ts";
import { ImageResolver } from "./image-record.ts";

export { parseRecord } from "./records.ts";

export interface NativeImport extends Pick<IngestOptions, "replace" | "progress"> {
  file: string;
  saeId: string;
  /** Parse and encode in worker threads: "auto" (default) for files of about 16 MiB of JSON or more on machines of 4+ cores. */
  workers?: boolean | "auto";
  /** Bytes of JSONL per block (tests use small blocks to exercise many of them). */
  blockBytes?: number;
  /** Largest image file accepted (bytes); default DEFAULT_IMAGE_MAX_BYTES (config: MONOSCOPE_IMAGE_MAX_BYTES). */
  imageMaxBytes?: number;
}

const BATCH = 4096;
/** Uncompressed JSONL size from which workers pay for their start-up. */
const WORKER_THRESHOLD = 16 << 20;

export async function importNativeActivations(ingest: IngestService, opts: NativeImport): Promise<IngestSummary> {
  const { file } = opts;
  const poolStart = startPool(ingest, opts);
  poolStart.catch(() => {});
  let pool: EncodePool | null = null;
  try {
    const contentHash = await fingerprintFiles([file]);
    return await ingest.mergeIntoSae(
      opts.saeId,
      { source: { format: "native", path: file }, contentHash },
      async (sink) => {
        pool = await poolStart;
        await writeNativeActivations(sink, file, { blockBytes: opts.blockBytes, pool, imageMaxBytes: opts.imageMaxBytes });
      },
      { replace: opts.replace, progress: opts.progress },
    );
  } finally {
    pool ??= await poolStart.catch(() => null);
    await pool?.close();
  }
}

/**
 * Workers pay off only with cores to spare: the main thread writes COPY data (and runs PGlite's
 * COPY), the PostgreSQL server parses it, and on a 2-core machine the byte-level encoder on the
 * main thread keeps up with the server, while workers add their start-up and message costs
 * (measured: ~90k records/s without workers, ~75k/s with two, 64-token records, 2 cores).
 */
async function startPool(ingest: IngestService, opts: NativeImport): Promise<EncodePool | null> {
  const want = opts.workers ?? "auto";
  if (want === false) return null;
  const cores = availableParallelism();
  if (want === "auto") {
    if (cores < 4) return null;
    const size = await stat(opts.file).then((s) => s.size, () => 0);
    const gz = size > 0 && (await isGzip(opts.file).catch(() => false));
    if (size * (gz ? 6 : 1) < WORKER_THRESHOLD) return null;
  }
  // Embedded PGlite parses COPY on the main thread: one worker beside it. PostgreSQL: a core
  // for the main thread and one for the server, the rest (up to four) for workers.
  return EncodePool.start(ingest.backend === "pglite" ? 1 : Math.max(1, Math.min(4, cores - 2)));
}

/** Every record of file into sink, in file order (the body of importNativeActivations; benchmarks capture its COPY data). */
export async function writeNativeActivations(
  sink: IngestSink,
  file: string,
  opts: { blockBytes?: number; pool?: EncodePool | null; imageMaxBytes?: number } = {},
): Promise<void> {
  const blockBytes = opts.blockBytes ?? 1 << 20;
  const pool = opts.pool ?? null;
  const resolver = new ImageResolver(file, opts.imageMaxBytes ?? DEFAULT_IMAGE_MAX_BYTES);
  let feats: FeatureRow[] = [];
  let expl: ExplanationRow[] = [];
  // Block memory is reused once a block is encoded: fewer fresh ArrayBuffers, fewer full GCs.
  const free: ArrayBuffer[] = [];
  const alloc = (size: number): Buffer => {
    const i = free.findIndex((ab) => ab.byteLength >= size);
    const ab = i >= 0 ? free.splice(i, 1)[0]! : (Buffer.allocUnsafeSlow(Math.max(size, 2 * blockBytes + (64 << 10))).buffer as ArrayBuffer);
    return Buffer.from(ab, 0, size);
  };
  const recycle = (ab: ArrayBuffer | undefined) => {
    if (ab && ab.byteLength > 0 && free.length < 8) free.push(ab);
  };
  const write = async (r: ActivationBlockResult) => {
    recycle(r.input);
    if (r.error) throw blockError(r.error);
    for (const o of r.others) {
      if (o.type === "feature") feats.push(o.row);
      else expl.push(o.row);
      if (feats.length >= BATCH) {
        await sink.features(feats);
        feats = [];
      }
      if (expl.length >= BATCH) {
        await sink.explanations(expl);
        expl = [];
      }
    }
    const images: TupleImage[] = [];
    for (const img of r.images) {
      const { image, bytes } = await resolver.resolve(img.ref, img.where);
      if (bytes) await sink.images!([bytes]);
      images.push({ k: img.k, image });
    }
    if (r.indices.length) await sink.activationTuples!(r.tuples, r.indices, r.starts, images);
  };
  const ctx = { file, saeId: sink.saeId, dSae: sink.dSae };
  // Blocks go out to the workers as they are read and come back in file order: each worker
  // has one block in hand and one queued.
  const queue: Promise<ActivationBlockResult>[] = [];
  const depth = pool ? 2 * pool.size : 0;
  const blocks = readJsonlBlocks(file, blockBytes, alloc);
  try {
    for (;;) {
      let next: IteratorResult<JsonlBlock>;
      try {
        next = await blocks.next();
      } catch (e) {
        // A read error (broken gzip) comes after the records read before it.
        while (queue.length) await write(await queue.shift()!);
        throw e;
      }
      if (next.done) break;
      const job = { ...ctx, firstLine: next.value.firstLine, bytes: next.value.bytes };
      if (!pool) {
        const r = encodeActivationBlock(job);
        recycle(job.bytes.buffer as ArrayBuffer); // nothing in r refers to it
        await write(r);
        continue;
      }
      const result = pool.activations(job);
      result.catch(() => {}); // surfaced in order by write(); later ones die with the pool
      queue.push(result);
      if (queue.length >= depth) await write(await queue.shift()!);
    }
    while (queue.length) await write(await queue.shift()!);
  } finally {
    await blocks.return(undefined);
  }
  await sink.features(feats);
  await sink.explanations(expl);
}
