// The physical reference for the benchmarks: numpy (OpenBLAS) in a long-lived python3
// subprocess, fed the same float32 matrices through temp files, so that kernel and BLAS runs can
// alternate call by call under the same machine load.
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const SCRIPT = fileURLToPath(new URL("./blas_baseline.py", import.meta.url));

export class BlasBaseline {
  private readonly dir = mkdtempSync(join(tmpdir(), "monoscope-blas-"));
  private readonly pending: Array<(line: string) => void> = [];
  private constructor(private readonly proc: ChildProcessWithoutNullStreams) {
    createInterface({ input: proc.stdout }).on("line", (line) => this.pending.shift()?.(line));
  }

  /** Starts python3 with numpy, or returns null (with the reason) when it is not available. */
  static async start(): Promise<{ blas: BlasBaseline; info: Record<string, unknown> } | { blas: null; reason: string }> {
    // OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE may be set on this machine for old OpenBLAS builds; they
    // slow a current numpy down. Unset them for the baseline process only.
    const env = { ...process.env };
    delete env.OPENBLAS_CORETYPE;
    delete env.OPENBLAS_L2_SIZE;
    const proc = spawn("python3", [SCRIPT], { env, stdio: ["pipe", "pipe", "pipe"] });
    let stderr = "";
    proc.stderr.on("data", (d) => (stderr += String(d)));
    const started = new Promise<string | null>((resolve) => {
      proc.once("error", (e) => resolve(e.message));
      proc.once("exit", (code) => resolve(`python3 exited with ${code}: ${stderr.trim().split("\n").pop() ?? ""}`));
    });
    const blas = new BlasBaseline(proc);
    const info = await Promise.race([blas.call({ op: "info" }), started]);
    if (info === null || typeof info === "string") return { blas: null, reason: info ?? "python3 failed" };
    return { blas, info: info as Record<string, unknown> };
  }

  call(cmd: Record<string, unknown>): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      this.pending.push((line) => {
        const res = JSON.parse(line) as Record<string, unknown>;
        if (res.error) reject(new Error(String(res.error)));
        else resolve(res);
      });
      this.proc.stdin.write(JSON.stringify(cmd) + "\n");
    });
  }

  async load(name: string, data: Float32Array, rows: number, cols: number): Promise<void> {
    const path = join(this.dir, `${name}.f32`);
    // In slices: one write call takes at most 2 GiB, and a 1M x 768 float32 matrix is 3 GB.
    const bytes = new Uint8Array(data.buffer, data.byteOffset, rows * cols * 4);
    const fd = openSync(path, "w");
    try {
      for (let off = 0; off < bytes.length; off += 1 << 30) writeSync(fd, bytes.subarray(off, Math.min(bytes.length, off + (1 << 30))));
    } finally {
      closeSync(fd);
    }
    await this.call({ op: "load", name, path, rows, cols });
    rmSync(path);
  }

  async gemm(a: string, b: string, transA = false, transB = false): Promise<number> {
    return (await this.call({ op: "gemm", a, b, transA, transB })).ms as number;
  }

  /** Exact top-k of every row of q against m; `block` rows of q per product (bounds memory). */
  async topK(q: string, m: string, k: number, qRows?: number, block?: number): Promise<number> {
    return (await this.call({ op: "topk", q, m, k, qRows, block })).ms as number;
  }

  async free(name: string): Promise<void> {
    await this.call({ op: "free", name });
  }

  close(): void {
    this.proc.stdin.end();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
