// A small pool of encoder worker threads (encode-worker.ts) for large SAELens checkpoints
// and large native activation files: reading, parsing/encoding and the database's COPY then
// run on different cores. start() returns null when workers cannot start; callers then
// encode on the calling thread.
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { AppError, ErrorCode } from "../../errors.ts";
import { compiled, ownModuleUrl, packagePath } from "../../paths.ts";
import type { ActivationBlockJob, ActivationBlockResult } from "../native/activation-block.ts";
import type { ActivationJobResult, EncodeJob, EncodeResult } from "./encode-worker.ts";

export class EncodePool {
  private next = 0;
  private seq = 0;
  private readonly pending = new Map<number, { resolve: (r: unknown) => void; reject: (e: Error) => void }>();

  private constructor(private readonly workers: Worker[]) {
    for (const w of workers) {
      w.on("message", (r: EncodeResult | ActivationJobResult) => {
        const p = this.pending.get(r.id);
        if (!p) return;
        this.pending.delete(r.id);
        if (r.ok && "indices" in r) {
          const result: ActivationBlockResult = { tuples: Buffer.from(r.tuples, 0, r.length), indices: r.indices, starts: r.starts, others: r.others, images: r.images, error: r.error, input: r.input };
          p.resolve(result);
        } else if (r.ok) p.resolve({ tuples: Buffer.from(r.tuples, 0, r.length), decoders: r.decoders });
        else p.reject(r.userError ? new AppError(ErrorCode.BAD_USER_INPUT, r.message) : new Error(r.message));
      });
      w.on("error", (e) => this.failAll(e));
    }
  }

  /** One worker per core the main thread leaves free, at least two (reading on the main thread is light), at most four. */
  static async start(size = Math.max(2, Math.min(4, availableParallelism() - 1))): Promise<EncodePool | null> {
    // Compiled, the worker is plain JavaScript; from src/ it needs the boot file to register tsx.
    const entry = ownModuleUrl("ingest/bulk/encode-worker.ts");
    const workers: Worker[] = [];
    try {
      for (let i = 0; i < size; i++) {
        const w = compiled ? new Worker(entry) : new Worker(packagePath("src", "ingest", "bulk", "encode-worker-boot.mjs"), { workerData: { entry: entry.href } });
        workers.push(w);
      }
      // A worker is ready once its module has loaded; a failing loader surfaces here.
      await Promise.all(workers.map((w) => new Promise<void>((resolve, reject) => {
        w.once("online", () => resolve());
        w.once("error", reject);
      })));
      return new EncodePool(workers);
    } catch {
      await Promise.all(workers.map((w) => w.terminate()));
      return null;
    }
  }

  get size(): number {
    return this.workers.length;
  }

  encode(job: Omit<EncodeJob, "id">): Promise<{ tuples: Buffer; decoders: number }> {
    const id = ++this.seq;
    const w = this.workers[this.next++ % this.workers.length]!;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (r: unknown) => void, reject });
      const transfer = [job.dec.buffer, ...(job.enc ? [job.enc.buffer] : [])] as ArrayBuffer[];
      w.postMessage({ ...job, id }, transfer);
    });
  }

  /**
   * Parses and encodes a block of native activation JSONL (native/activation-block.ts). The whole
   * ArrayBuffer under job.bytes moves to the worker (when the view starts at 0; otherwise a copy)
   * and comes back as result.input for reuse.
   */
  activations(job: ActivationBlockJob): Promise<ActivationBlockResult> {
    const id = ++this.seq;
    const w = this.workers[this.next++ % this.workers.length]!;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (r: unknown) => void, reject });
      const bytes = job.bytes;
      const own = bytes.byteOffset === 0 ? bytes : bytes.slice();
      w.postMessage({ id, kind: "activations", job: { ...job, bytes: own } }, [own.buffer as ArrayBuffer]);
    });
  }

  private failAll(e: Error): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  async close(): Promise<void> {
    this.failAll(new Error("encoder pool closed"));
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
