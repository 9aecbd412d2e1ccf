// A small pool of encoder worker threads (encode-worker.ts) for large SAELens checkpoints:
// reading, encoding and the database's COPY then run on different cores. Falls back to
// encoding on the calling thread when workers cannot start.
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import { AppError, ErrorCode } from "../../errors.ts";
import type { EncodeJob, EncodeResult } from "./encode-worker.ts";

export class EncodePool {
  private next = 0;
  private seq = 0;
  private readonly pending = new Map<number, { resolve: (r: { tuples: Buffer; decoders: number }) => void; reject: (e: Error) => void }>();

  private constructor(private readonly workers: Worker[]) {
    for (const w of workers) {
      w.on("message", (r: EncodeResult) => {
        const p = this.pending.get(r.id);
        if (!p) return;
        this.pending.delete(r.id);
        if (r.ok) p.resolve({ tuples: Buffer.from(r.tuples, 0, r.length), decoders: r.decoders });
        else p.reject(r.userError ? new AppError(ErrorCode.BAD_USER_INPUT, r.message) : new Error(r.message));
      });
      w.on("error", (e) => this.failAll(e));
    }
  }

  /** One worker per core the main thread leaves free, at least two (reading on the main thread is light), at most four. */
  static async start(size = Math.max(2, Math.min(4, availableParallelism() - 1))): Promise<EncodePool | null> {
    const entry = new URL("./encode-worker.ts", import.meta.url).href;
    const workers: Worker[] = [];
    try {
      for (let i = 0; i < size; i++) {
        const w = new Worker(new URL("./encode-worker-boot.mjs", import.meta.url), { workerData: { entry } });
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
      this.pending.set(id, { resolve, reject });
      const transfer = [job.dec.buffer, ...(job.enc ? [job.enc.buffer] : [])] as ArrayBuffer[];
      w.postMessage({ ...job, id }, transfer);
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
