// A block of native JSONL lines (whole lines, as UTF-8 bytes) turned into activation COPY
// tuples: split, then per line either the byte-level encoder for the common activation record
// (fast-activation.ts) or JSON.parse, the record checks (records.ts) and the session's row
// checks and encoding (bulk/activation-tuple.ts): the same bytes and errors either way. Runs in an encoder worker
// (bulk/encode-worker.ts) or, when workers are not used, on the main thread. Ordinals are
// left as placeholders for the session (it owns them), and feature/explanation records come
// back as rows, in file order, for the session's usual paths.
import { AppError, ErrorCode, fileError, isAppError } from "../../errors.ts";
import { encodeActivationTuple } from "../bulk/activation-tuple.ts";
import { CopyBuffer } from "../bulk/copy-binary.ts";
import type { ExplanationRow, FeatureRow } from "../ingest.types.ts";
import { parseJsonLine } from "../jsonl.ts";
import { FastActivationEncoder } from "./fast-activation.ts";
import type { ImageRef } from "./image-record.ts";
import { parseRecord } from "./records.ts";

export interface ActivationBlockJob {
  file: string;
  saeId: string;
  dSae: number;
  /** Line number of the block's first line (1-based). */
  firstLine: number;
  bytes: Uint8Array;
}

export interface ActivationBlockResult {
  tuples: Buffer;
  /** Per encoded activation: its feature and the byte offset of its tuple in tuples. */
  indices: Int32Array;
  starts: Int32Array;
  others: ({ type: "feature"; row: FeatureRow } | { type: "explanation"; row: ExplanationRow })[];
  /** Image examples among the tuples: tuple k shows the image of ref (read on the main thread, where: file:line). */
  images: { k: number; ref: ImageRef; where: string }[];
  /** The first bad record's one-line error (the block's rows are then not to be used). */
  error: { message: string; details?: Record<string, unknown>; userError: boolean } | null;
  /** From a worker: the memory of job.bytes, handed back for reuse. */
  input?: ArrayBuffer;
}

export function encodeActivationBlock(job: ActivationBlockJob): ActivationBlockResult {
  const { file, saeId, dSae } = job;
  const bytes = job.bytes;
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fast = new FastActivationEncoder(saeId, dSae);
  const b = new CopyBuffer(Math.max(1 << 16, Math.ceil(bytes.byteLength * 1.9)));
  let indices: Int32Array = new Int32Array(1024);
  let starts: Int32Array = new Int32Array(1024);
  let n = 0;
  const others: ActivationBlockResult["others"] = [];
  const images: ActivationBlockResult["images"] = [];
  let line = job.firstLine - 1;
  try {
    let start = 0;
    const len = buf.length;
    while (start < len) {
      let nl = buf.indexOf(10, start);
      if (nl === -1) nl = len;
      const end = nl > start && buf[nl - 1] === 13 ? nl - 1 : nl;
      const from = start;
      start = nl + 1;
      line++;
      if (n === indices.length) {
        indices = grow(indices);
        starts = grow(starts);
      }
      // The common record straight from its bytes; anything else through JSON.parse.
      const at = b.pos;
      const fi = fast.encode(b, buf, from, end);
      if (fi >= 0) {
        starts[n] = at;
        indices[n++] = fi;
        continue;
      }
      const s = buf.toString("utf8", from, end);
      if (s.trim() === "") continue;
      const where = `${file}:${line}`;
      const value = parseJsonLine(s, where);
      const r = parseRecord(value, where);
      if (r.type !== "activation") {
        others.push(r);
        continue;
      }
      starts[n] = b.pos;
      if (r.image) {
        // The grid is all the tuple needs; the image itself is resolved by the main thread.
        const grid = { sha256: null, url: null, width: 1, height: 1, patchRows: r.image.patchRows, patchCols: r.image.patchCols };
        encodeActivationTuple(b, saeId, dSae, { ...r.row, image: grid }, where, "", 0);
        images.push({ k: n, ref: r.image, where });
      } else encodeActivationTuple(b, saeId, dSae, r.row, where, "", 0);
      indices[n++] = r.row.index;
    }
  } catch (e) {
    const error = isAppError(e) ? { message: e.message, details: e.details, userError: true } : { message: (e as Error).message, userError: false };
    return { tuples: Buffer.alloc(0), indices: new Int32Array(0), starts: new Int32Array(0), others: [], images: [], error };
  }
  return { tuples: b.take(), indices: indices.subarray(0, n), starts: starts.subarray(0, n), others, images, error: null };
}

function grow(a: Int32Array): Int32Array {
  const next = new Int32Array(a.length * 2);
  next.set(a);
  return next;
}

/** The error a block reported, as the main thread throws it. */
export function blockError(error: NonNullable<ActivationBlockResult["error"]>): Error {
  return error.userError ? new AppError(ErrorCode.BAD_USER_INPUT, error.message, { details: error.details }) : new Error(error.message);
}
