// Turns a suite's JSON document into result rows. Suites that print the common format (lib.ts
// emit: `rows` of BenchRow) pass through; older shapes get an adapter, or are kept raw with each
// result object flattened into a row, so nothing a suite measured is lost.
import { type BenchRow, checkTarget, type Machine, round, type Scalar } from "./lib.ts";
import type { SuiteResult } from "./report-types.ts";

type Doc = Record<string, unknown>;
type Adapted = Pick<SuiteResult, "rows" | "notes" | "meta" | "raw" | "machine">;

const isRow = (x: unknown): x is BenchRow =>
  typeof x === "object" && x !== null && typeof (x as BenchRow).name === "string" && typeof (x as BenchRow).value === "number";

function scalars(o: Record<string, unknown>, skip: string[] = []): Record<string, Scalar> {
  const out: Record<string, Scalar> = {};
  for (const [k, v] of Object.entries(o)) {
    if (skip.includes(k)) continue;
    if (v === null || ["string", "number", "boolean"].includes(typeof v)) out[k] = v as Scalar;
  }
  return out;
}

/** kernel.ts: per case the kernel's and numpy's median ms, measured alternately. */
function kernelRows(doc: Doc): BenchRow[] {
  const kernel = (doc.kernel ?? {}) as { backend?: string; threads?: number };
  const base = (doc.baseline ?? {}) as Record<string, unknown>;
  const blasName = base.kind === "numpy" ? `numpy ${base.numpy ?? ""} / ${(base.coretype as string) ?? "OpenBLAS"}` : "none";
  return ((doc.results ?? []) as Doc[]).map((r) => {
    const gemm = r.op === "gemm";
    const sizes: Record<string, number> = gemm
      ? { m: r.m as number, n: r.n as number, k: r.k as number }
      : { rows: r.rows as number, d: r.d as number, queries: r.queries as number, k: r.k as number };
    const row: BenchRow = {
      suite: "kernel", name: String(r.case), backend: `kernel:${kernel.backend ?? "?"}`, sizes,
      params: gemm ? { transA: r.transA as boolean, transB: r.transB as boolean, threads: kernel.threads ?? null } : { threads: kernel.threads ?? null },
      reps: r.reps as number, metric: gemm ? "time per product" : "time per scan", unit: "ms", value: r.kernelMs as number, better: "lower",
      extra: gemm
        ? { "kernel GFLOP/s": r.kernelGflops as number, "BLAS GFLOP/s": r.blasGflops as number }
        : { "kernel GB/s": r.kernelGBps as number, "BLAS GB/s": r.blasGBps as number },
    };
    if (typeof r.blasMs === "number" && Number.isFinite(r.blasMs)) {
      row.baseline = { name: "same matrices through numpy", backend: blasName, value: r.blasMs };
      row.ratio = r.ratioToBlas as number;
      row.target = { on: "ratio", op: "<=", limit: 3, source: "issue 5: within 3x of OpenBLAS" };
    }
    return checkTarget(row);
  });
}

function genericRows(suite: string, doc: Doc): BenchRow[] {
  const list = (Array.isArray(doc.results) ? doc.results : Array.isArray(doc.rows) ? doc.rows : []) as Doc[];
  return list.map((r, i) => {
    const nums = Object.entries(r).filter(([, v]) => typeof v === "number") as Array<[string, number]>;
    const main = nums.find(([k]) => /p50|median|ms|perSec|rps|qps/i.test(k)) ?? nums[0];
    return {
      suite, name: String(r.name ?? r.case ?? r.label ?? `result ${i + 1}`), backend: String(r.backend ?? "?"), sizes: {},
      reps: Number(r.reps ?? 1), metric: main ? main[0] : "?", unit: "", value: main ? round(main[1], 3) : NaN, better: "none",
      extra: scalars(r, ["name", "case", "label", "backend", "suite"]),
    };
  });
}

export function adaptSuite(suite: string, doc: Doc): Adapted {
  const notes = Array.isArray(doc.notes) ? (doc.notes as string[]) : undefined;
  const machine = doc.machine as Machine | undefined;
  if (Array.isArray(doc.rows) && doc.rows.every(isRow)) {
    const rows = (doc.rows as BenchRow[]).map((r) => checkTarget({ ...r, suite: r.suite ?? suite }));
    return { rows, notes, machine, meta: doc.meta as Record<string, unknown> | undefined };
  }
  if (suite === "kernel" && Array.isArray(doc.results)) {
    const base = doc.baseline as Record<string, unknown> | undefined;
    return { rows: kernelRows(doc), machine, notes, meta: { kernel: doc.kernel, baseline: base } };
  }
  return { rows: genericRows(suite, doc), notes, machine, raw: doc };
}
