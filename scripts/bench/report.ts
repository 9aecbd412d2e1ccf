// BENCHMARKS.md from BENCHMARKS.json: the headline ratios the issues ask for, then every suite's
// rows (median of repeated runs, same-run baseline, ratio, the issue's bar), the generator's
// geometry and the scale sheet. Re-render without rerunning: node bin/run-ts.js scripts/bench/report.ts
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { BenchRow } from "./lib.ts";
import type { BenchReport, SuiteResult } from "./report-types.ts";
import { renderDistribution } from "./report-distribution.ts";
import { renderScaleSheet } from "./report-scale.ts";
import { esc, fmt, kv, table } from "./report-format.ts";

interface Headline {
  id: string;
  title: string;
  bar: string;
  suites: string[];
  /** Fallback when a suite does not tag its rows with `headline`. */
  match?: (r: BenchRow) => boolean;
}

const base = (r: BenchRow) => `${r.baseline?.name ?? ""} ${r.baseline?.backend ?? ""}`.toLowerCase();

export const HEADLINES: Headline[] = [
  { id: "ingest-vs-copy", title: "Ingest of decoder rows vs raw `psql \\copy (FORMAT binary)`", bar: ">= 0.8x throughput (issue 4)", suites: ["ingest"], match: (r) => /copy/.test(base(r)) },
  { id: "activations-rate", title: "Activation records ingested per second", bar: ">= 100k/s (issue 4)", suites: ["ingest"], match: (r) => /activation/i.test(r.name) && !r.baseline },
  { id: "knn-vs-pg-exact", title: "Nearest-feature p50 (recall@10 >= 0.99) vs PostgreSQL exact scan", bar: "<= 1/20 (issue 5)", suites: ["nearest"], match: (r) => /postgres|exact scan|seq/.test(base(r)) && !/blas|numpy/.test(base(r)) },
  { id: "knn-vs-blas", title: "Nearest-feature p50 vs the BLAS exact scan (same float32 matrix)", bar: "report; goal beyond: 1/3 (issue 5)", suites: ["nearest"], match: (r) => /blas|numpy/.test(base(r)) },
  { id: "feature-neighbours", title: "Feature -> feature neighbour lookup p50", bar: "<= 1 ms (issue 5)", suites: ["nearest"], match: (r) => /precomputed|feature.?(->|→|to).?feature|neighbou?rs/i.test(r.name) },
  { id: "products-vs-blas", title: "Exact cosine products / scans in src/kernel vs OpenBLAS (numpy)", bar: "<= 3x (issue 5)", suites: ["kernel", "lineage"], match: (r) => /numpy|openblas|blas/.test(base(r)) },
  { id: "lineage-time", title: "Family lineage build time", bar: "report; practical at 16k -> 65k -> 262k x 2304 (issue 5)", suites: ["lineage"], match: (r) => /lineage|build/i.test(r.name) },
  { id: "graphql-vs-sql", title: "Nearest-feature p50 through GraphQL vs the same SQL issued directly", bar: "<= 1.3x (issue 8)", suites: ["graphql"], match: (r) => /sql/.test(base(r)) },
  { id: "hybrid-vs-single", title: "Concept search HYBRID p50 vs the slower single mode", bar: "<= 2x (issue 7)", suites: ["search"], match: (r) => /hybrid/i.test(r.name) && !!r.baseline },
  { id: "search-quality", title: "Concept search quality (hit@10, MRR) per mode", bar: "HYBRID beats each single mode (issue 7)", suites: ["search"], match: (r) => /hit@10|mrr/i.test(`${r.metric} ${r.name}`) },
  { id: "pglite-vs-postgres", title: "Embedded PGlite vs PostgreSQL, same operation", bar: "report (issues 4, 5, 9)", suites: ["ingest", "nearest", "lineage", "search", "graphql", "scale"], match: (r) => r.backend.includes("pglite") && /postgres/.test(base(r)) },
  { id: "cli-startup", title: "CLI start-up (fresh process, p50) vs the tree before the compiled build", bar: "--help <= 0.3 s, query <= 1.5 s (issue 14)", suites: ["cli"] },
  { id: "soak", title: "10-minute soak: failed requests, RSS drift after warm-up", bar: "0 failed, RSS within 10% (issue 8)", suites: ["soak"] },
];

const met = (r: BenchRow) => (r.targetMet === undefined ? "" : r.targetMet ? "met" : "**not met**");
const ratioText = (r: BenchRow) => (r.ratio === undefined ? "" : `${fmt(r.ratio)}x`);
const targetText = (r: BenchRow) => (r.target ? `${r.target.on === "ratio" ? "ratio" : "value"} ${r.target.op} ${fmt(r.target.limit)}` : "");
const valueText = (r: BenchRow) => `${fmt(r.value)} ${r.unit}`.trim();

function rowsTable(rows: BenchRow[]): string {
  return table(
    ["measured", "backend", "sizes", "parameters", "runs", "metric", "median", "more", "baseline (same run)", "ratio", "bar"],
    rows.map((r) => [
      r.name, r.backend, kv(r.sizes), kv(r.params), String(r.reps), r.metric, valueText(r), kv(r.extra),
      r.baseline ? `${r.baseline.name} (${r.baseline.backend}): ${fmt(r.baseline.value)} ${r.unit}` : "",
      ratioText(r), [targetText(r), met(r)].filter(Boolean).join(": "),
    ]),
  );
}

function headlineSection(rep: BenchReport): string {
  const out: string[] = ["## Headline ratios", "", "Each ratio divides a figure by its baseline measured in the same run of the same suite (medians)."];
  const lines: string[][] = [];
  for (const h of HEADLINES) {
    const suites = rep.suites.filter((s) => h.suites.includes(s.name));
    // A suite that tags its rows is taken at its word; untagged suites are matched by name/baseline.
    const rows = suites.flatMap((s) => {
      const tagged = s.rows.some((r) => r.headline !== undefined);
      return s.rows.filter((r) => r.headline === h.id || (!tagged && h.match?.(r)));
    });
    if (rows.length === 0) {
      const why = suites.map((s) => (s.status === "ok" ? `${s.name}: no matching row` : `${s.name}: ${s.status}${s.reason ? ` (${s.reason})` : ""}`));
      lines.push([h.title, h.bar, "not measured", "", "", why.join("; ") || "suite not registered"]);
      continue;
    }
    for (const [i, r] of rows.entries()) {
      lines.push([i === 0 ? h.title : "", i === 0 ? h.bar : "", `${r.name} (${r.backend}, ${kv(r.sizes)}): ${valueText(r)}${r.baseline ? ` vs ${fmt(r.baseline.value)} ${r.unit}` : ""}`, ratioText(r), met(r), `${r.suite}`]);
    }
  }
  out.push("", table(["headline", "bar", "measured (median)", "ratio", "bar met", "suite"], lines));
  return out.join("\n");
}

function suiteSection(s: SuiteResult, rep: BenchReport): string {
  const out = [`## ${s.name}${s.variant ? ` (${s.variant})` : ""}`, "", `${s.what}. \`${s.file}\` — ${s.status}${s.reason ? `: ${s.reason}` : ""}; ${s.mode} mode, ran ${s.ranAt.slice(0, 16).replace("T", " ")} UTC, ${s.seconds} s.`];
  if (s.machine?.cores && s.machine.cpu && (s.machine.cores !== rep.machine.cores || s.machine.cpu !== rep.machine.cpu)) {
    out.push("", `Machine: ${s.machine.cores} cores, ${s.machine.cpu}, ${s.machine.memoryGiB} GiB.`);
  }
  if (s.notes?.length) out.push("", ...s.notes.map((n) => `- ${n}`));
  if (s.rows.length) out.push("", rowsTable(s.rows));
  if (s.name === "distribution" && s.meta) out.push("", renderDistribution(s.meta));
  if (s.raw) out.push("", "This suite's output is not in the common row format; its numeric fields are shown as they came (full document in BENCHMARKS.json).");
  return out.join("\n");
}

export function renderMarkdown(rep: BenchReport): string {
  const m = rep.machine;
  const pgLine = rep.postgres.available
    ? `PostgreSQL ${rep.postgres.settings.server_version} + pgvector ${rep.postgres.settings.pgvector ?? "?"} at ${rep.postgres.server}; ` +
      Object.entries(rep.postgres.settings).filter(([k]) => !["server_version", "pgvector"].includes(k)).map(([k, v]) => `${k}=${v}`).join(", ")
    : `PostgreSQL: not available (${rep.postgres.reason})`;
  const np = rep.numpy.available
    ? `numpy ${rep.numpy.numpy} (${rep.numpy.blas ?? "BLAS ?"}${rep.numpy.kernel ? `, kernel ${rep.numpy.kernel} via ${rep.numpy.via}` : ""}), run with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset`
    : `numpy: not available (${rep.numpy.reason})`;
  const parts = [
    "# Benchmarks",
    "",
    `Generated by \`${rep.command}\` on ${rep.generatedAt.slice(0, 16).replace("T", " ")} UTC at commit ${rep.git.commit}${rep.git.dirty ? " (with uncommitted changes)" : ""}, in ${rep.seconds} s. ` +
      "Every figure comes from the committed scripts in `scripts/bench/`; the machine-readable version is `BENCHMARKS.json`. " +
      "Rerun: `npm run bench` (quick, < 10 minutes) or `npm run bench -- --full` (larger sizes, about an hour); `-- --only a,b` reruns some suites and keeps the others.",
    "",
    `- Machine: ${m.cores} cores (${m.cpu}), ${m.memoryGiB} GiB RAM, Node ${m.node}. A shared machine: ratios are taken between contenders measured in the same run, alternating where the suite can.`,
    `- ${pgLine}.`,
    `- Baseline BLAS: ${np}.`,
    "- Values are medians over the stated number of runs (for latency rows: over the timed queries, with p99 beside them).",
    "",
    headlineSection(rep),
    "",
    "## Suites in this run",
    "",
    "Suites kept from an earlier run by `--only` show when and in which mode they ran.",
    "",
    table(
      ["suite", "status", "mode", "ran (UTC)", "seconds", "rows", "reason"],
      rep.suites.map((s) => [s.variant ? `${s.name} (${s.variant})` : s.name, s.status, s.mode, s.ranAt.slice(0, 16).replace("T", " "), fmt(s.seconds), String(s.rows.length), s.reason ?? ""]),
    ),
  ];
  for (const s of rep.suites) if (s.status === "ok") parts.push("", suiteSection(s, rep));
  parts.push("", renderScaleSheet(rep.suites.find((s) => s.name === "scale"), rep));
  // Figures measured by other scripts (the hostile-input campaign, the demo data dir) are kept by hand.
  const byHand = join(dirname(fileURLToPath(import.meta.url)), "measured-by-hand.md");
  if (existsSync(byHand)) parts.push("", readFileSync(byHand, "utf8").trimEnd());
  return parts.join("\n") + "\n";
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const rep = JSON.parse(readFileSync("BENCHMARKS.json", "utf8")) as BenchReport;
  writeFileSync("BENCHMARKS.md", renderMarkdown(rep));
  console.error("wrote BENCHMARKS.md");
}
