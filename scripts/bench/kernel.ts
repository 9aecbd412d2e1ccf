// Kernel vs OpenBLAS, side by side: the same float32 matrices through the project's native kernel
// (src/kernel) and through numpy in a python3 subprocess, calls alternating so both see the same
// machine load. Prints JSON: per case the median ms of each, GFLOP/s (or GB/s for scans) and the
// ratio kernel/BLAS (target <= 3).
//   node bin/run-ts.js scripts/bench/kernel.ts [--reps 7] [--full]
import { createKernel } from "../../src/kernel/index.ts";
import { BlasBaseline } from "./blas-baseline.ts";
import { machine, median, randomMatrix, round, timeMs } from "./stats.ts";

const args = process.argv.slice(2);
const reps = Number(args[args.indexOf("--reps") + 1]) || 7;
const full = args.includes("--full");

interface GemmCase { name: string; m: number; n: number; k: number; transA?: boolean; transB?: boolean }
interface ScanCase { name: string; rows: number; d: number; q: number; k: number }

const gemmCases: GemmCase[] = [
  { name: "square 2048 (A·Bᵀ)", m: 2048, n: 2048, k: 2048, transB: true },
  { name: "lineage block 4096×4096 d768 (A·Bᵀ)", m: 4096, n: 4096, k: 768, transB: true },
  { name: "SAE encode 8192×4096 d100 (A·B)", m: 8192, n: 4096, k: 100 },
  { name: "SAE grad 100×4096 over 8192 rows (Aᵀ·B)", m: 100, n: 4096, k: 8192, transA: true },
];
const scanCases: ScanCase[] = [
  { name: "exact top-10 scan 100k×768, 1 query", rows: 100_000, d: 768, q: 1, k: 10 },
  { name: "exact top-10 scan 100k×768, 64 queries", rows: 100_000, d: 768, q: 64, k: 10 },
];
if (full) {
  gemmCases.push({ name: "lineage block 8192×16384 d2304 (A·Bᵀ)", m: 8192, n: 16384, k: 2304, transB: true });
  scanCases.push({ name: "exact top-10 scan 1M×768, 1 query", rows: 1_000_000, d: 768, q: 1, k: 10 });
}

const kernel = await createKernel();
const started = await BlasBaseline.start();
const blas = started.blas;
const results: Record<string, unknown>[] = [];

for (const c of gemmCases) {
  const aLen = c.m * c.k;
  const bLen = c.k * c.n;
  const a = randomMatrix(aLen, 11);
  const b = randomMatrix(bLen, 12);
  if (blas) {
    await blas.load("a", a, c.transA ? c.k : c.m, c.transA ? c.m : c.k);
    await blas.load("b", b, c.transB ? c.n : c.k, c.transB ? c.k : c.n);
  }
  const kt: number[] = [];
  const bt: number[] = [];
  await kernel.gemm(a, b, c.m, c.n, c.k, c); // warm-up (session creation)
  if (blas) await blas.gemm("a", "b", c.transA, c.transB);
  for (let r = 0; r < reps; r++) {
    kt.push(await timeMs(() => kernel.gemm(a, b, c.m, c.n, c.k, c)));
    if (blas) bt.push(await blas.gemm("a", "b", c.transA, c.transB));
  }
  const flop = 2 * c.m * c.n * c.k;
  const kMs = median(kt);
  const bMs = blas ? median(bt) : NaN;
  results.push({
    suite: "kernel", op: "gemm", case: c.name, m: c.m, n: c.n, k: c.k, transA: !!c.transA, transB: !!c.transB, reps,
    kernelMs: round(kMs), blasMs: round(bMs),
    kernelGflops: round(flop / kMs / 1e6, 1), blasGflops: round(flop / bMs / 1e6, 1),
    ratioToBlas: round(kMs / bMs, 2),
  });
}

for (const c of scanCases) {
  const m = randomMatrix(c.rows * c.d, 21);
  const q = randomMatrix(c.q * c.d, 22);
  if (blas) {
    await blas.load("m", m, c.rows, c.d);
    await blas.load("q", q, c.q, c.d);
  }
  const kt: number[] = [];
  const bt: number[] = [];
  await kernel.topKDot(q, c.q, m, c.rows, c.d, c.k);
  if (blas) await blas.topK("q", "m", c.k);
  for (let r = 0; r < reps; r++) {
    kt.push(await timeMs(() => kernel.topKDot(q, c.q, m, c.rows, c.d, c.k)));
    if (blas) bt.push(await blas.topK("q", "m", c.k));
  }
  const bytes = c.rows * c.d * 4;
  const kMs = median(kt);
  const bMs = blas ? median(bt) : NaN;
  results.push({
    suite: "kernel", op: "topKDot", case: c.name, rows: c.rows, d: c.d, queries: c.q, k: c.k, reps,
    kernelMs: round(kMs), blasMs: round(bMs),
    kernelGBps: round(bytes / kMs / 1e6, 1), blasGBps: round(bytes / bMs / 1e6, 1),
    ratioToBlas: round(kMs / bMs, 2),
  });
  if (blas) await Promise.all([blas.free("m"), blas.free("q")]);
}

await kernel.close();
blas?.close();
console.log(
  JSON.stringify(
    {
      suite: "kernel",
      machine: machine(),
      kernel: { backend: kernel.backend, threads: machine().cores },
      baseline: blas ? { kind: "numpy", ...(started as { info: Record<string, unknown> }).info, env: "OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset" } : { kind: "none", reason: (started as { reason: string }).reason },
      results,
    },
    null,
    2,
  ),
);
