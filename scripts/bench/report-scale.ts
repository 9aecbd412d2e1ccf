// The scale sheet in BENCHMARKS.md: bytes per feature measured on PostgreSQL, build time per 100k,
// and the extrapolation to Anthropic's 1M / 4M / 34M-feature SAEs with what breaks first.
import type { BenchReport, SuiteResult } from "./report-types.ts";
import { fmt, table } from "./report-format.ts";
import type { ScalePoint } from "./scale.ts";

/**
 * Bytes per dimension of a cached decoder matrix (decoder-matrix.ts): float16 rows (2), the 4-bit
 * codes and their residual codes (0.5 + 0.5), 1/‖row‖ (4 bytes a row); measured at 1,048,576 × 2304:
 * 7.42 GB held (BENCHMARKS.md, "a 1,048,576 × 2304 SAE in memory"). The int8 codes (1 more) are
 * built only by the exhaustive neighbour-list build.
 */
const MATRIX_BYTES_PER_DIM = 7.42e9 / (1_048_576 * 2304);

/**
 * The IVF neighbour-list build (ivf-neighbours.ts, neighbour-join.ts: partition, pass 1, three
 * joins), measured in memory at 100,000 × 768 on this machine, unloaded (scripts/bench/ivf.ts
 * --features 100000, 2026-12-02 21:40 UTC; BENCHMARKS.md "IVF neighbour lists"): the partition
 * grows as n^1.5·d (k-means on a sample of 40·nlist rows, nlist = 2√n), pass 1 as n²·d (it
 * probes a twentieth of the clusters at any size), each join as n·d.
 */
const IVF_AT = { n: 100_000, d: 768, partitionS: 2.9, pass1S: 16.7, joinS: 21.3, joins: 3 };
const ivfBuildSeconds = (n: number, d: number) => {
  const r = n / IVF_AT.n;
  const w = d / IVF_AT.d;
  return IVF_AT.partitionS * r ** 1.5 * w + IVF_AT.pass1S * r * r * w + IVF_AT.joins * IVF_AT.joinS * r * w;
};
/** The large suite's end-to-end measurement of one size (scripts/bench/large.ts), when it ran. */
interface LargeRun {
  n: number;
  d: number;
  small: number;
  ingestS: number;
  listsS: number;
  lineageS: number | null;
  serve: Record<string, unknown> | null;
}
function largeRun(rep: BenchReport): LargeRun | null {
  const suite = rep.suites.find((s) => s.name === "large" && s.status === "ok");
  const ingest = suite?.rows.find((r) => r.name.startsWith("ingest (monoscope ingest saelens"));
  const lists = Number(ingest?.extra?.["neighbour lists s"]);
  if (!suite || !ingest || !Number.isFinite(lists)) return null;
  const lineage = suite.rows.find((r) => r.name.startsWith("lineage "));
  const serve = suite.rows.find((r) => r.name.startsWith("monoscope serve"));
  return {
    n: ingest.sizes.features, d: ingest.sizes.d_in, small: ingest.sizes.small, ingestS: Number(ingest.extra?.seconds), listsS: lists,
    lineageS: lineage && Number.isFinite(lineage.value) ? lineage.value : null, serve: serve?.extra ?? null,
  };
}

/** Gemma Scope 2's widths top out at 1M: its 64M latents are many SAEs, each built on its own. */
const WIDEST_GEMMA_SCOPE_2 = 1_048_576;

const GiB = 2 ** 30;
/** PGlite is 32-bit WebAssembly: the whole server (buffers, catalog, the query) lives in < 4 GiB; ~2 GiB is the practical ceiling for data. */
const PGLITE_BYTES = 2 * GiB;
const TARGETS = [1_048_576, 4_194_304, 33_554_432, 67_108_864];
const label = (n: number) => (n >= 1e9 ? `${fmt(n / 1e9)}B` : n >= 1e6 ? `${Math.round(n / 1e6)}M` : `${Math.round(n / 1000)}k`);

function duration(s: number): string {
  if (!Number.isFinite(s)) return "n/a";
  if (s < 120) return `${fmt(s)} s`;
  if (s < 7200) return `${fmt(s / 60)} min`;
  if (s < 172_800) return `${fmt(s / 3600)} h`;
  if (s < 3 * 365 * 86400) return `${fmt(s / 86400)} days`;
  return `${fmt(s / (365 * 86400))} years`;
}
const gb = (b: number) => `${fmt(b / 1e9)} GB`;

interface Model {
  p: ScalePoint;
  matrixRam?: number;
  bytesPerFeature: number | null;
  hnswBpf: number | null;
  ingest: (n: number) => number;
  hnsw: (n: number) => number;
  neighbours: (n: number) => number;
  lineage: (parents: number, children: number) => number;
}

function model(p: ScalePoint): Model {
  const hnsw = "seconds" in p.hnsw ? p.hnsw : null;
  const nlogn = (n: number) => n * Math.log2(n);
  return {
    p,
    bytesPerFeature: p.bytes ? p.bytes.total : null,
    hnswBpf: hnsw ? hnsw.bytesPerFeature : null,
    ingest: (n) => (p.ingestSeconds !== null ? (p.ingestSeconds * n) / p.n : NaN),
    hnsw: (n) => (hnsw ? (hnsw.seconds * nlogn(n)) / nlogn(p.n) : NaN),
    neighbours: (n) => p.products.neighboursSeconds * (n / p.n) ** 2,
    lineage: (a, b) => (p.products.lineageSeconds * a * b) / (p.products.lineageParents * p.n),
  };
}

/** Where each resource runs out for one d_in, smallest size first. */
function limits(m: Model, matrixBudget: number, ivfSeconds: (n: number, d: number) => number): Array<{ what: string; n: number }> {
  const cap = (f: (n: number) => number, limit: number) => {
    let n = 1000;
    while (n < 1e10 && f(n) < limit) n *= 1.05;
    return n;
  };
  const out: Array<{ what: string; n: number }> = [];
  if (m.bytesPerFeature !== null) out.push({ what: "PGlite ~2 GiB", n: PGLITE_BYTES / (m.bytesPerFeature + (m.hnswBpf ?? 0)) });
  out.push({ what: `in-process matrix > cache budget (RAM/3)`, n: matrixBudget / (m.p.d * MATRIX_BYTES_PER_DIM) });
  if (m.hnswBpf !== null) out.push({ what: "HNSW build > 1 h", n: cap((n) => m.hnsw(n), 3600) });
  out.push({ what: "exhaustive neighbour lists > 1 h", n: cap((n) => m.neighbours(n), 3600) });
  out.push({ what: "IVF neighbour lists > 1 h", n: cap((n) => ivfSeconds(n, m.p.d), 3600) });
  out.push({ what: "lineage step (n/4 x n) > 1 h", n: cap((n) => m.lineage(n / 4, n), 3600) });
  if (m.bytesPerFeature !== null) out.push({ what: "PostgreSQL data > RAM (scans leave the page cache)", n: (m.matrixRam ?? 0) / (m.bytesPerFeature + (m.hnswBpf ?? 0)) });
  return out.sort((a, b) => a.n - b.n);
}

export function renderScaleSheet(scale: SuiteResult | undefined, rep: BenchReport): string {
  const out = ["## Scale sheet", ""];
  const points = (scale?.meta?.points ?? []) as ScalePoint[];
  if (!scale || scale.status !== "ok" || points.length === 0) {
    out.push(`Not measured in this run (${scale ? `${scale.status}${scale.reason ? `: ${scale.reason}` : ""}` : "scale suite not run"}).`);
    return out.join("\n");
  }
  const ms = points.map((p) => ({ ...model(p), matrixRam: rep.machine.memoryGiB * GiB }));
  const widest = ms.find((m) => m.p.d === 4096) ?? ms[ms.length - 1];
  const matrixBudget = (rep.machine.memoryGiB * GiB) / 3; // the geometry module's matrix cache default
  // The IVF model is calibrated by the large suite's measured build at the d_in it ran (its stages
  // were measured at 100k x 768; the larger products of a wider, larger SAE run nearer the kernel's peak).
  // Only a run at 1M or more calibrates (the quick mode's 16k run is far from the sheet's sizes).
  const run = largeRun(rep);
  const big = run && run.n >= 1e6 ? run : null;
  const ivfFactor = big ? big.listsS / ivfBuildSeconds(big.n, big.d) : 1;
  const ivfSeconds = (n: number, d: number) => ivfBuildSeconds(n, d) * (big && d === big.d ? ivfFactor : 1);
  const lineageModel = big ? ms.find((m) => m.p.d === big.d)?.lineage : undefined;
  const serveNum = (k: string) => (big?.serve && typeof big.serve[k] === "number" ? (big.serve[k] as number) : NaN);
  const measuredBig = big
    ? `Measured end to end at ${fmt(big.n)} x ${big.d} (BENCHMARKS.md, \`large\`, one 2-core machine, PostgreSQL): ingest ${fmt(big.ingestS - big.listsS - (big.lineageS ?? 0))} s before its post-ingest steps, IVF neighbour lists for every feature ${duration(big.listsS)} (recall above the cut ${fmt(serveNum("lists recall@32 above the cut"))}, plain recall@32 ${fmt(serveNum("lists plain recall@32"))}, on ${fmt(serveNum("recall sample"))} random features)` +
      `${big.lineageS !== null ? `, lineage ${fmt(big.small)} -> ${fmt(big.n)} ${duration(big.lineageS)}` : ""}, server cold load ${fmt(serveNum("cold load s"))} s and RSS ${fmt(serveNum("rss MiB"))} MiB, certified nearestToVector p50 ${fmt(serveNum("nearestToVector p50 ms"))} ms with recall@10 ${fmt(serveNum("nearestToVector recall@10"))}. ` +
      `The IVF column at d_in ${big.d} is the model above scaled by that measurement (measured / modelled = ${fmt(ivfFactor)}); the other d_in are the model as measured at ${fmt(IVF_AT.n)} x ${IVF_AT.d}; lineage is projected from the kernel's measured products` +
      `${big.lineageS !== null && lineageModel ? ` (for ${fmt(big.small)} -> ${fmt(big.n)} the model gives ${duration(lineageModel(big.small, big.n))} against the ${duration(big.lineageS)} measured)` : ""}.`
    : "Not yet measured end to end at 1M features (the large suite, `npm run bench -- --full --only large`): the neighbour-list and lineage columns are projections.";

  out.push(
    `Measured by \`scripts/bench/scale.ts\` (${scale.mode} mode): a generated SAE per d_in goes through \`monoscope ingest saelens\` into a fresh PostgreSQL database; sizes after VACUUM ANALYZE. ` +
      "Per-feature bytes do not depend on the SAE's size (apart from the HNSW graph's upper layers), so they extrapolate linearly. " +
      "The heap is measured as the product leaves it (the post-ingest neighbour-list UPDATE leaves old row versions' space behind, reused by later writes) and again after VACUUM FULL. " +
      "Rows wider than ~2 kB are TOASTed: the encoder (float32 vector) goes out of line first, the decoder halfvec stays in the heap at d_in 768 and moves out of line above.",
    "",
    "### Bytes per feature (PostgreSQL)",
    "",
    table(
      ["d_in", "measured at", "decoder halfvec", "encoder vector", "nn lists", "heap", "heap after VACUUM FULL", "TOAST+FSM+VM", "b-tree indexes", "table + indexes", "HNSW index", "total with HNSW"],
      ms.map(({ p, hnswBpf }) => [
        String(p.d), `${fmt(p.n)} features`, fmt(p.bytes?.decoderColumn), fmt(p.bytes?.encoderColumn), fmt(p.bytes?.neighbourColumns), fmt(p.bytes?.heap), fmt(p.bytes?.heapCompacted), fmt(p.bytes?.toastEtc), fmt(p.bytes?.btreeIndexes),
        fmt(p.bytes?.total), hnswBpf !== null ? fmt(hnswBpf) : "none (" + ("skipped" in p.hnsw ? p.hnsw.skipped : "") + ")", p.bytes ? fmt(p.bytes.total + (hnswBpf ?? 0)) : p.ingestError ?? "not measured",
      ]),
    ),
    "",
    "### Build time per 100k features (this machine)",
    "",
    "Ingest scales linearly; HNSW as n log n (optimistic: assumes the graph fits in maintenance_work_mem); precomputed neighbours (all pairs, top-10) and lineage (every child against every parent) are exact products, quadratic in the number of features.",
    "",
    table(
      ["d_in", "ingest (SAELens -> ready SAE)", "HNSW build", "precomputed neighbours, 100k x 100k", "lineage, 25k parents x 100k children", "kernel GFLOP/s"],
      ms.map((m) => [String(m.p.d), duration(m.ingest(1e5)), duration(m.hnsw(1e5)), duration(m.neighbours(1e5)), duration(m.lineage(25_000, 1e5)), fmt(m.p.products.gflops)]),
    ),
    "",
    "### Extrapolation to 1M, 4M, 34M and 64M features",
    "",
    "Anthropic's Scaling Monosemanticity family is 1M / 4M / 34M features in one SAE each; Gemma Scope 2's 64M latents are many SAEs of at most 1M features (per layer and width), so its row is 64 SAEs of 1M: storage adds up, every build and matrix is per SAE. " +
      "Lineage of a size is against the size below it (1M against 256k, 4M against 1M, 34M against 4M; within Gemma Scope 2, each 1M SAE against its 262k sibling). " +
      `Neighbour lists: the IVF build as the post-ingest step runs it above the exhaustive cut-off (projected from its stages measured at ${fmt(IVF_AT.n)} x ${IVF_AT.d}: partition n^1.5·d, pass 1 n²·d, joins n·d) beside the exhaustive build (all pairs, quadratic). ` +
      "Memory per API replica: the decoder matrix its cache holds for the SAE (float16 rows and 4-bit codes, measured at 1M x 2304); with SAE-affinity routing (docs/deploy.md) each replica holds only the SAEs hashed to it. " +
      measuredBig,
    "",
    table(
      ["d_in", "features", "PostgreSQL bytes (with HNSW)", "matrix per API replica", "ingest", "HNSW build", "neighbour lists: IVF", "neighbour lists: exhaustive", "lineage vs the size below (exact)", "past one 2-core, 24 GiB machine"],
      ms.flatMap((m) =>
        TARGETS.map((n, i) => {
          const many = n > WIDEST_GEMMA_SCOPE_2 * 32; // the 64M row: 64 SAEs of 1M
          const per = many ? WIDEST_GEMMA_SCOPE_2 : n;
          const count = many ? n / WIDEST_GEMMA_SCOPE_2 : 1;
          const matrix = per * m.p.d * MATRIX_BYTES_PER_DIM;
          const ivfS = count * ivfSeconds(per, m.p.d);
          const lineageS = many ? count * m.lineage(per / 4, per) : m.lineage(i === 0 ? n / 4 : TARGETS[i - 1], n);
          const dbBytes = m.bytesPerFeature !== null ? n * (m.bytesPerFeature + (m.hnswBpf ?? 0)) : NaN;
          const needs: string[] = [];
          if (matrix > matrixBudget) needs.push(`matrix over a replica's default cache (${fmt(matrixBudget / GiB)} GiB): ${fmt(Math.ceil((3 * matrix) / GiB))} GiB of RAM per replica, or the SAE split by feature range`);
          if (dbBytes > 200e9) needs.push("PostgreSQL data past this disk: SAEs spread over servers by partition");
          if (ivfS > 86_400 || lineageS > 86_400) needs.push("builds over a day: GPU workers (products on the GPU, lists bulk-loaded)");
          if (many) needs.push("one matrix at a time per replica; SAE-affinity routing spreads the 64 over replicas");
          return [
            String(m.p.d), many ? `${fmt(count)}M (${fmt(count)} x 1M)` : label(n), Number.isFinite(dbBytes) ? gb(dbBytes) : "n/a", gb(matrix), duration(m.ingest(n)),
            m.hnswBpf !== null ? duration(count * m.hnsw(per)) : "no index (d_in > 4000)",
            big && big.n === n && big.d === m.p.d ? `${duration(ivfS)} (measured)` : duration(ivfS), duration(count * m.neighbours(per)), duration(lineageS), needs.length ? needs.join("; ") : "fits",
          ];
        }),
      ),
    ),
    "",
    "### What breaks first",
    "",
    "The size (features of one SAE) at which each limit is reached, from the measurements above; per d_in, in the order they are hit:",
    "",
    table(["d_in", "in order (first limit first)"], ms.map((m) => [String(m.p.d), limits(m, matrixBudget, ivfSeconds).map((l) => `${l.what} at ~${label(l.n)}`).join(" -> ")])),
    "",
    "- **PGlite** is 32-bit WebAssembly: the whole embedded server lives in < 4 GiB, so about 2 GiB of data is its practical ceiling; it is also single-threaded (a 100k x 768 HNSW build inside PGlite did not finish in 13 minutes in a full run on 2026-11-26, while PostgreSQL built it and ran the ef_search sweep in about 2). It is for the demo and small SAEs; larger ones go to PostgreSQL (`DATABASE_URL`).",
    "- **Exact all-pairs products** (the exhaustive neighbour-list build; lineage between two large sizes) grow quadratically. Above a work limit the post-ingest step builds neighbour lists with the IVF partition (recall above the floor >= 0.99 measured at 100k and 200k in memory, and end to end in the large suite; pass 1 is still quadratic with a small constant, a twentieth of all pairs); lineage is exact at every size, so between 4M and 34M features it needs many machines or GPUs.",
    `- **The in-process decoder matrix** behind the scans needs features x d_in x ${fmt(MATRIX_BYTES_PER_DIM)} bytes per SAE (float16 rows for exact scans and re-ranking, 4-bit codes and their residual codes for the certified scan; measured at 1M x 2304), never the float32 matrix; the geometry module's cache gets a third of RAM (${fmt(matrixBudget / GiB)} GiB here, so a 1M x 2304 SAE fits by default) and evicts least recently used SAEs.`,
    "- **HNSW builds** grow as n log n while the graph fits maintenance_work_mem and much faster after; pgvector does not index halfvec above 4,000 dimensions, so d_in 4096 relies on scans (or binary quantization with re-rank).",
    "",
    "Plan past one machine:",
    "",
    "- Shard by SAE: every query, index and matrix is per SAE (partial indexes `WHERE sae_id = ...`), so SAEs spread over servers (PostgreSQL partitioning by `sae_id` or Citus with `sae_id` as distribution column) with the GraphQL layer routing by SAE id; nothing joins across SAEs except lineage edges, which are stored per family after being computed.",
    "- Split one huge SAE by feature range: each worker holds a slice of the decoder matrix (float16 halves the RAM) and answers exact top-k for its slice; the router merges the k-best lists (a scatter-gather over the same blocked top-k the kernel already does).",
    `- Lineage and neighbour lists are embarrassingly parallel over blocks of children: run them as a batch job on GPU workers and bulk-load the edges with COPY. A 4M x 34M product at d_in 4096 is ${fmt((2 * TARGETS[1] * TARGETS[2] * 4096) / 1e18)}e18 FLOP: ${widest ? duration(widest.lineage(TARGETS[1], TARGETS[2])) : "n/a"} on this machine's kernel, about ${duration((2 * TARGETS[1] * TARGETS[2] * 4096) / (8 * 50e12))} on 8 GPUs at a sustained 50 TFLOP/s each.`,
    "- Past RAM, replace exact in-memory scans by an ANN index per shard (IVF-PQ or DiskANN-style on disk, or pgvector HNSW on binary-quantized vectors) with exact re-rank of the candidates from halfvec rows, keeping recall@10 >= 0.99 measured as in the nearest suite.",
    "- Activation examples (the bulk of the bytes at Neuronpedia-like depth) move to columnar files or object storage keyed by (sae, feature), leaving the database with the top few per feature.",
  );
  return out.join("\n");
}
