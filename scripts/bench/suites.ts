// The benchmark suites `npm run bench` runs, in this order (most important first, so a quick run
// that hits its 10-minute budget loses the least). Each prints one JSON document (see lib.ts).
import type { Mode } from "./lib.ts";

export interface SuiteDef {
  name: string;
  /** Path from the repository root. */
  file: string;
  what: string;
  /** Wall-clock limit per mode, seconds (quick runs also share a global budget). */
  timeoutS: Record<Mode, number>;
  /** Extra arguments per mode (`--full` is passed in full mode anyway). */
  args?: Partial<Record<Mode, string[]>>;
  fullOnly?: boolean;
  /**
   * Run once per variant: `postgres` gets DATABASE_URL of a fresh database on the server (dropped
   * afterwards), the others run without DATABASE_URL (embedded PGlite). For suites that choose
   * their backend from DATABASE_URL, like the app itself.
   */
  variants?: Array<{ label: string; postgres?: boolean; modes?: Mode[]; args?: string[] }>;
}

export const SUITES: SuiteDef[] = [
  {
    name: "kernel", file: "scripts/bench/kernel.ts", timeoutS: { quick: 120, full: 900 }, args: { quick: ["--reps", "5"] },
    what: "float32 products and exact top-k scans: src/kernel vs numpy/OpenBLAS, alternating calls",
  },
  {
    name: "ingest", file: "scripts/bench/ingest.ts", timeoutS: { quick: 150, full: 1200 },
    args: { quick: ["--rows", "15000", "--pglite-rows", "4000", "--activations", "60000"] },
    what: "decoder rows vs raw psql \\copy (FORMAT binary); activation records/s; PGlite beside PostgreSQL",
  },
  {
    name: "textbuild", file: "scripts/bench/textbuild.ts", timeoutS: { quick: 900, full: 1800 },
    what: "activations build on the demo: WordNet contexts through glove-wordnet and the SAE, tokens/s beside the encoder GEMM alone; top-20 Jaccard vs the shipped examples",
  },
  {
    name: "nearest", file: "scripts/bench/nearest.ts", timeoutS: { quick: 180, full: 1500 },
    args: { quick: ["--queries", "50", "--small-features", "10000"] },
    // Full mode: PostgreSQL at 100k (HNSW included), PGlite at 20k in its own run: a 100k HNSW build inside
    // PGlite did not finish in 13 minutes (first full run), and a timeout there would lose the PostgreSQL rows.
    variants: [
      { label: "", modes: ["quick"] },
      { label: "postgres", modes: ["full"], args: ["--only", "postgres"] },
      { label: "pglite", modes: ["full"], args: ["--only", "pglite", "--features", "20000"] },
    ],
    what: "nearest-feature strategies: recall@10, p50/p99, QPS at 1 and 4 clients, index build/size; PostgreSQL exact scan and BLAS scan",
  },
  {
    name: "lineage", file: "scripts/bench/lineage.ts", timeoutS: { quick: 120, full: 1800 },
    what: "family lineage build (exact blocked products) vs OpenBLAS; Gemma-Scope-like widths in full mode",
  },
  {
    name: "search", file: "scripts/bench/search.ts", timeoutS: { quick: 360, full: 1800 },
    args: { quick: ["--synthetic", "20000", "--queries", "40"] },
    what: "concept search p50/p99 per mode (HYBRID / SEMANTIC / LEXICAL), demo family and >= 100k synthetic labels",
  },
  {
    name: "graphql", file: "scripts/bench/graphql.ts", timeoutS: { quick: 120, full: 900 },
    args: { quick: ["--seconds", "5"], full: ["--seconds", "15", "--features", "16384"] },
    // Quick mode runs PostgreSQL only (PGlite beside PostgreSQL is in the ingest suite's quick run).
    variants: [{ label: "pglite", modes: ["full"] }, { label: "postgres", postgres: true }],
    what: "GraphQL end to end (feature lookup, nearest, concept search) at concurrency 1 and 16 vs the bare SQL",
  },
  {
    name: "distribution", file: "scripts/bench/distribution.ts", timeoutS: { quick: 90, full: 900 },
    what: "generator geometry: nearest-neighbour cosine histograms vs the demo family; planted-lineage recovery",
  },
  {
    name: "scale", file: "scripts/bench/scale.ts", timeoutS: { quick: 200, full: 2400 },
    what: "scale sheet: bytes per feature on PostgreSQL at each d_in, build time per 100k, extrapolation to 1M/4M/34M",
  },
  {
    name: "encode", file: "scripts/bench/encode.ts", timeoutS: { quick: 90, full: 900 },
    variants: [{ label: "pglite" }, { label: "postgres", postgres: true }],
    what: "encodeVector: pgvector inner-product scan in the database vs the in-process encoder matrix",
  },
  {
    name: "text", file: "scripts/bench/text.ts", timeoutS: { quick: 120, full: 600 },
    variants: [{ label: "pglite" }, { label: "postgres", postgres: true }],
    what: "activateText: 64 tokens on the demo's 8192 SAE through GraphQL, beside the encoder batch alone and a per-token database scan",
  },
  {
    name: "cli", file: "scripts/bench/cli-startup.ts", timeoutS: { quick: 600, full: 1200 }, args: { quick: ["--before", "f5c969b"], full: ["--before", "f5c969b"] },
    what: "CLI start-up: `monoscope --help` and `monoscope query` on the demo SAE 512, fresh processes, beside the tree before the compiled build (f5c969b)",
  },
  {
    name: "explorer", file: "scripts/bench/explorer.ts", timeoutS: { quick: 420, full: 900 }, args: { full: ["--pages", "100"] },
    what: "the explorer in headless Chromium on the demo: feature page navigation → painted activations p50, the largest map's first paint",
  },
  {
    name: "graphs", file: "scripts/bench/graphs.ts", timeoutS: { quick: 300, full: 900 },
    // The bar is on PostgreSQL; PGlite (about 2 minutes to ingest the million links) in full mode.
    variants: [{ label: "pglite", modes: ["full"] }, { label: "postgres", postgres: true }],
    what: "attribution graphs, 10k nodes / 1M links: ingest, `graph` with pruning, graphPaths k=10 and graphMediators p50 through GraphQL and in memory",
  },
  {
    name: "deploy", file: "scripts/bench/deploy.ts", timeoutS: { quick: 600, full: 1500 },
    args: { quick: ["--seconds", "5"], full: ["--seconds", "10", "--features", "16384"] },
    what: "scripts/cluster.sh on loopback: feature page through HAProxy with 1 and 2 API replicas, reads on primary vs standby, Monoscope vs PostGraphile v4 (equal data first)",
  },
  {
    name: "partition", file: "scripts/bench/partition.ts", timeoutS: { quick: 600, full: 1200 },
    what: "storage partitioned by SAE vs the unpartitioned schema, one server: ingest of a 100k x d128 SAE (attached vs detached load + attach), deleteSae, feature page p50/p99 with 50 SAEs stored",
  },
  {
    // Resumable across runs (state in .benchtmp/large-<n>x<d>/): quick mode proves it at a reduced size.
    name: "large", file: "scripts/bench/large.ts", timeoutS: { quick: 3600, full: 86_400 }, args: { quick: ["--features", "16384", "--small", "4096", "--queries", "20", "--sample", "100"] },
    what: "a 1,048,576 x 2304 float16 SAE end to end on PostgreSQL: ingest rows/s, bytes/feature, server RSS, nearest p50/p99 and recall, neighbour lists for every feature with their recall, lineage from a smaller size of the family",
  },
  {
    name: "soak", file: "scripts/soak.ts", timeoutS: { quick: 0, full: 1200 }, fullOnly: true, args: { full: ["--minutes", "10"] },
    variants: [{ label: "postgres", postgres: true }],
    what: "10-minute bounded load on loopback: failed requests, RSS drift after warm-up",
  },
];
