// The shape of BENCHMARKS.json.
import type { BenchRow, Machine, Mode, NumpyInfo } from "./lib.ts";

export interface SuiteResult {
  name: string;
  /** Backend variant of a suite run more than once (e.g. pglite / postgres). */
  variant?: string;
  file: string;
  what: string;
  mode: Mode;
  ranAt: string;
  status: "ok" | "failed" | "timeout" | "missing" | "skipped";
  /** Why a suite has no rows (missing, failed, timed out, skipped). */
  reason?: string;
  seconds: number;
  machine?: Machine;
  rows: BenchRow[];
  notes?: string[];
  meta?: Record<string, unknown>;
  /** The suite's own JSON when it was not in the row format (kept whole). */
  raw?: unknown;
}

export interface BenchReport {
  generatedAt: string;
  mode: Mode;
  command: string;
  git: { commit: string; dirty: boolean };
  machine: Machine;
  postgres: { available: true; server: string; settings: Record<string, string> } | { available: false; reason: string };
  numpy: NumpyInfo;
  seconds: number;
  suites: SuiteResult[];
}
