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
      row.headline = "products-vs-blas";
    }
    return checkTarget(row);
  });
}

/** graphql.ts: autocannon runs per query and concurrency, and nearestFeatures beside its bare SQL. */
function graphqlRows(doc: Doc): BenchRow[] {
  const backend = String(doc.backend ?? "?");
  const ds = (doc.dataset ?? {}) as { features?: number; dIn?: number };
  const sizes = { features: ds.features ?? 0, d_in: ds.dIn ?? 0 };
  const rows: BenchRow[] = ((doc.results ?? []) as Doc[]).map((r) => ({
    suite: "graphql", name: `${r.query} at concurrency ${r.concurrency}`, backend: `graphql over ${backend}`,
    sizes: { ...sizes, clients: r.concurrency as number }, params: { seconds: doc.secondsPerRun as number },
    reps: r.requests as number, metric: "p50 latency", unit: "ms", value: r.p50 as number, better: "lower",
    extra: { p99: r.p99 as number, "req/s": round(r.requestsPerSecond as number, 0), failed: (r.errors as number) + (r.non2xx as number) + (r.timeouts as number) + (r.graphqlErrors as number) },
  }));
  const side = doc.nearestSideBySide as Doc | undefined;
  if (side && typeof side.graphqlP50 === "number" && typeof side.directSqlP50 === "number") {
    const sql = (side.timings as Record<string, { p99?: number }> | undefined)?.sql ?? (side.sql as { p99?: number } | undefined);
    rows.push(checkTarget({
      suite: "graphql", name: "nearestFeatures p50 through GraphQL (concurrency 1)", backend: `graphql over ${backend}`, sizes, reps: 0,
      metric: "p50 latency", unit: "ms", value: side.graphqlP50, better: "lower", headline: "graphql-vs-sql",
      extra: {
        "GraphQL p99": round((side.graphqlP99 as number) ?? NaN, 3),
        "HTTP floor ({ __typename }) p50": round((side.httpFloorP50 as number) ?? NaN, 3),
        "repository call p50": round((side.directRepositoryP50 as number) ?? NaN, 3),
        "service call p50": round(side.directServiceP50 as number, 3),
        "SQL p99": round(sql?.p99 ?? NaN, 3),
        "statements per call": side.statementsPerNearestCall as number,
      },
      baseline: { name: "the same SQL issued directly (bare driver)", backend: `sql on ${backend}`, value: round(side.directSqlP50, 3) },
      ratio: round(side.graphqlP50 / side.directSqlP50, 2),
      target: { on: "ratio", op: "<=", limit: 1.3, source: "issue 8" },
    }));
  }
  return rows;
}

/** soak.ts: failed requests and RSS drift after warm-up. */
function soakRows(doc: Doc): BenchRow[] {
  const sizes = { minutes: doc.minutes as number, clients: doc.connections as number, requests: doc.requests as number };
  const backend = `graphql over ${doc.backend ?? "?"}`;
  return [
    checkTarget({ suite: "soak", name: "failed requests", backend, sizes, reps: 1, metric: "failed", unit: "requests", value: doc.failed as number, better: "lower", headline: "soak", target: { on: "value", op: "<=", limit: 0, source: "issue 8" } }),
    checkTarget({
      suite: "soak", name: "RSS drift after warm-up", backend, sizes, reps: 1, metric: "final RSS / settled RSS - 1", unit: "", value: doc.rssDrift as number, better: "lower", headline: "soak",
      extra: { "settled MiB": doc.rssSettledMiB as number, "final MiB": doc.rssFinalMiB as number, "max MiB": doc.rssMaxMiB as number },
      target: { on: "value", op: "<=", limit: 0.1, source: "issue 8" },
    }),
  ];
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
  if (suite === "graphql" && Array.isArray(doc.results)) return { rows: graphqlRows(doc), notes, machine, meta: { nearestSideBySide: doc.nearestSideBySide } };
  if (suite === "soak" && typeof doc.failed === "number") return { rows: soakRows(doc), notes, machine, meta: { samples: doc.samples } };
  return { rows: genericRows(suite, doc), notes, machine, raw: doc };
}
