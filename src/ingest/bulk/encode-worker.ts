// Worker thread: turns a block of SAELens feature rows (decoder rows, the encoder block as
// read from W_enc, scalars) or a block of native activation JSONL lines
// (native/activation-block.ts) into binary COPY tuples, so parsing and encoding run beside
// reading and the database instead of on the main thread. Messages: EncodeJob or
// ActivationJob in, EncodeResult or ActivationJobResult out (buffers are transferred).
import { parentPort } from "node:worker_threads";
import { isAppError } from "../../errors.ts";
import { type ActivationBlockJob, type ActivationBlockResult, encodeActivationBlock } from "../native/activation-block.ts";
import { CopyBuffer } from "./copy-binary.ts";
import { encodeFeatureTuple, type TupleContext } from "./feature-tuple.ts";

export interface EncodeJob {
  id: number;
  kind?: "features";
  ctx: TupleContext;
  file: string;
  /** First feature index and number of features. */
  start: number;
  n: number;
  /** [n, dIn] row-major. */
  dec: Float32Array;
  /** W_enc[:, start:start+n] as read: [dIn, n] row-major (gathered per feature here). */
  enc: Float32Array | null;
  bEnc: Float32Array | null;
  threshold: Float32Array | null;
  density: Float64Array | null;
}

export type EncodeResult =
  | { id: number; ok: true; tuples: ArrayBuffer; length: number; decoders: number }
  | { id: number; ok: false; message: string; userError: boolean };

export interface ActivationJob {
  id: number;
  kind: "activations";
  job: ActivationBlockJob;
}

export interface ActivationJobResult {
  id: number;
  ok: true;
  tuples: ArrayBuffer;
  length: number;
  indices: Int32Array;
  starts: Int32Array;
  others: ActivationBlockResult["others"];
  images: ActivationBlockResult["images"];
  error: ActivationBlockResult["error"];
  /** The job's input memory, handed back for the next block. */
  input: ArrayBuffer;
}

/** buf's bytes as a whole ArrayBuffer that can be transferred (copied only when buf is a view into a larger one). */
function ownBuffer(buf: Uint8Array): ArrayBuffer {
  return (buf.byteOffset === 0 ? buf.buffer : buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength)) as ArrayBuffer;
}

export function encodeJob(job: EncodeJob): { buf: Buffer; decoders: number } {
  const { ctx, n, start } = job;
  const dIn = ctx.dIn;
  // Room for every tuple up front (header, ids, 2-byte halfvec + 4-byte vector components, scalars).
  const b = new CopyBuffer(n * (160 + 6 * dIn) + ctx.saeId.length * 3 * n);
  const encoders = job.enc ? transpose(job.enc, dIn, n) : null;
  let decoders = 0;
  for (let i = 0; i < n; i++) {
    decoders += encodeFeatureTuple(
      b,
      ctx,
      {
        index: start + i,
        decoder: job.dec.subarray(i * dIn, (i + 1) * dIn),
        encoder: encoders ? encoders.subarray(i * dIn, (i + 1) * dIn) : null,
        bEnc: job.bEnc ? job.bEnc[i]! : null,
        threshold: job.threshold ? job.threshold[i]! : null,
        density: job.density ? job.density[i]! : null,
      },
      job.file,
    );
  }
  return { buf: b.take(), decoders };
}

/** [rows, cols] -> [cols, rows], in tiles so reads and writes both stay in cache. */
function transpose(a: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  const T = 32;
  for (let r0 = 0; r0 < rows; r0 += T) {
    const r1 = Math.min(rows, r0 + T);
    for (let c0 = 0; c0 < cols; c0 += T) {
      const c1 = Math.min(cols, c0 + T);
      for (let r = r0; r < r1; r++) {
        const base = r * cols;
        for (let c = c0; c < c1; c++) out[c * rows + r] = a[base + c]!;
      }
    }
  }
  return out;
}

parentPort?.on("message", (msg: EncodeJob | ActivationJob) => {
  if (msg.kind === "activations") {
    let result: ActivationJobResult | EncodeResult;
    let transfer: ArrayBuffer[] = [];
    try {
      const r = encodeActivationBlock(msg.job);
      const tuples = ownBuffer(r.tuples);
      const indices = r.indices.byteOffset === 0 ? r.indices : r.indices.slice();
      const starts = r.starts.byteOffset === 0 ? r.starts : r.starts.slice();
      const input = msg.job.bytes.buffer as ArrayBuffer;
      result = { id: msg.id, ok: true, tuples, length: r.tuples.length, indices, starts, others: r.others, images: r.images, error: r.error, input };
      transfer = [tuples, indices.buffer as ArrayBuffer, starts.buffer as ArrayBuffer];
      if (input !== tuples) transfer.push(input);
    } catch (e) {
      result = { id: msg.id, ok: false, message: (e as Error).message, userError: isAppError(e) };
    }
    parentPort!.postMessage(result, transfer);
    return;
  }
  const job = msg;
  try {
    const { buf, decoders } = encodeJob(job);
    // Buffer.alloc memory is not pooled, so the whole ArrayBuffer can move to the main thread.
    const tuples = ownBuffer(buf);
    const result: EncodeResult = { id: job.id, ok: true, tuples, length: buf.length, decoders };
    parentPort!.postMessage(result, [tuples]);
  } catch (e) {
    const result: EncodeResult = { id: job.id, ok: false, message: (e as Error).message, userError: isAppError(e) };
    parentPort!.postMessage(result);
  }
});
