// The generator's geometry, measured: nearest-neighbour cosine histograms of generated decoder sets
// at d_in 768 / 2304 / 4096, the same statistic for the demo family's real SAEs (data/demo/saes/*,
// SAELens W_dec) beside generated sets of the same shape, how fast the generator streams, and
// whether exact best-match lineage recovers the planted parents.
//   node bin/run-ts.js scripts/bench/distribution.ts [--full] [--demo-dir data/demo/saes]
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { createKernel, type Kernel } from "../../src/kernel/index.ts";
import { decoderChunks, generateDecoders, planDecoders, planFamily, plantedLineage, unitRows } from "./generator.ts";
import { benchMode, type BenchRow, emit, emitPartialOnTimeout, log, round } from "./lib.ts";
import { readTensor } from "./safetensors-io.ts";

const mode = benchMode();
const argv = process.argv.slice(2);
const demoDir = argv.includes("--demo-dir") ? argv[argv.indexOf("--demo-dir") + 1] : "data/demo/saes";
const BINS = 20; // 0.05 wide over [0, 1]

export interface NnStats {
  label: string;
  source: "generated" | "real";
  n: number;
  d: number;
  sampled: number;
  /** Fraction of sampled rows per 0.05-wide bin of their nearest-neighbour cosine ([0,0.05), ...). */
  hist: number[];
  p10: number;
  p50: number;
  p90: number;
  /** Fractions below 0.2, in [0.2, 0.6), [0.6, 0.9), and >= 0.9. */
  bands: [number, number, number, number];
  /** Fraction of rows whose norm is below 0.1 x the median norm. */
  lowNorm: number;
}

/** Nearest-neighbour cosine (self excluded) of `sample` evenly spaced rows against all rows. */
async function nnStats(kernel: Kernel, label: string, source: NnStats["source"], raw: Float32Array, n: number, d: number, sample: number): Promise<NnStats> {
  const { unit, norms } = unitRows(raw, n, d);
  const q = Math.min(sample, n);
  const step = n / q;
  const qIdx = Array.from({ length: q }, (_, i) => Math.floor(i * step));
  const qs = new Float32Array(q * d);
  qIdx.forEach((r, i) => qs.set(unit.subarray(r * d, (r + 1) * d), i * d));
  const top = await kernel.topKDot(qs, q, unit, n, d, 2);
  const nn = qIdx.map((r, i) => (top.indices[2 * i] === r ? top.values[2 * i + 1] : top.values[2 * i]));
  nn.sort((a, b) => a - b);
  const hist = new Array(BINS).fill(0);
  for (const c of nn) hist[Math.min(BINS - 1, Math.max(0, Math.floor(c * BINS)))]++;
  const frac = (lo: number, hi: number) => nn.filter((c) => c >= lo && c < hi).length / q;
  const sortedNorms = Float32Array.from(norms).sort();
  const medNorm = sortedNorms[Math.floor(n / 2)];
  return {
    label, source, n, d, sampled: q,
    hist: hist.map((h) => round(h / q, 4)),
    p10: round(nn[Math.floor(q * 0.1)], 3),
    p50: round(nn[Math.floor(q * 0.5)], 3),
    p90: round(nn[Math.floor(q * 0.9)], 3),
    bands: [frac(-2, 0.2), frac(0.2, 0.6), frac(0.6, 0.9), frac(0.9, 2)].map((x) => round(x, 4)) as NnStats["bands"],
    lowNorm: round(Array.from(norms).filter((x) => x < 0.1 * medNorm).length / n, 4),
  };
}

const kernel = await createKernel();
const rows: BenchRow[] = [];
const stats: NnStats[] = [];
const notes: string[] = [];
const meta = { histogramBins: Array.from({ length: BINS }, (_, i) => round(i / BINS, 2)), nnStats: stats };
emitPartialOnTimeout({ suite: "distribution", rows, notes, meta });
const sample = mode === "full" ? 4000 : 1000;
const sizes: Record<number, number> = mode === "full" ? { 768: 200_000, 2304: 100_000, 4096: 50_000 } : { 768: 30_000, 2304: 10_000, 4096: 5_000 };

// Generated sets at the three d_in: geometry and streaming speed.
for (const [dStr, n] of Object.entries(sizes)) {
  const d = Number(dStr);
  const plan = planDecoders({ n, d, seed: 42 });
  const t0 = performance.now();
  let streamed = 0;
  for (const c of decoderChunks(plan, 4096, 0, Math.min(n, 20_000))) streamed += c.rows;
  const rowsPerSec = streamed / ((performance.now() - t0) / 1000);
  rows.push({
    suite: "distribution", name: `generator streaming d_in=${d}`, backend: "node", sizes: { features: streamed, d_in: d },
    params: { seed: 42, chunkRows: 4096 }, reps: 1, metric: "throughput", unit: "rows/s", value: round(rowsPerSec, 0), better: "higher",
    extra: { "MB/s (float32)": round((rowsPerSec * d * 4) / 1e6, 1) },
  });
  log(`generating ${n} x ${d}`);
  const raw = generateDecoders(plan);
  const s = await nnStats(kernel, `generated ${n / 1000}k x ${d}`, "generated", raw, n, d, sample);
  stats.push(s);
  rows.push({
    suite: "distribution", name: `generated nearest-neighbour cosine d_in=${d}`, backend: "generator", sizes: { features: n, d_in: d, sampled: s.sampled },
    params: { seed: 42 }, reps: 1, metric: "median NN cosine", unit: "cosine", value: s.p50, better: "none",
    extra: { p10: s.p10, p90: s.p90, "share 0.2-0.6": s.bands[1], "share >= 0.9": s.bands[3], "share < 0.2": s.bands[0], lowNormShare: s.lowNorm },
  });
}

// The demo family's real decoders beside generated sets of the same shape.
if (existsSync(demoDir)) {
  const dirs = readdirSync(demoDir).filter((x) => existsSync(join(demoDir, x, "sae_weights.safetensors")));
  dirs.sort((a, b) => Number(a) - Number(b));
  for (const dir of dirs) {
    const { data, shape } = readTensor(join(demoDir, dir, "sae_weights.safetensors"), "W_dec");
    const [n, d] = shape;
    const real = await nnStats(kernel, `demo ${dir} (real, d_in ${d})`, "real", data, n, d, n);
    const gen = await nnStats(kernel, `generated ${n} x ${d}`, "generated", generateDecoders(planDecoders({ n, d, seed: 42 })), n, d, n);
    stats.push(real, gen);
    rows.push({
      suite: "distribution", name: `demo ${dir} real vs generated`, backend: "real", sizes: { features: n, d_in: d },
      reps: 1, metric: "median NN cosine", unit: "cosine", value: real.p50, better: "none",
      baseline: { name: `generated ${n} x ${d}`, backend: "generator", value: gen.p50 }, ratio: round(real.p50 / gen.p50, 3),
      extra: { "real p10": real.p10, "real p90": real.p90, "real share >= 0.9": real.bands[3], "generated p10": gen.p10, "generated p90": gen.p90, "real lowNormShare": real.lowNorm },
    });
  }
} else notes.push(`demo family not found at ${demoDir} (build it with npm run build:demo): no real histogram to compare`);

// Planted splits: does exact best-match lineage recover the planted parents?
{
  const [small, big] = mode === "full" ? [16_384, 65_536] : [4096, 16_384];
  const d = 768;
  const fam = planFamily({ sizes: [small, big], d, seed: 7 });
  const P = unitRows(generateDecoders(fam[0]), small, d).unit;
  const C = unitRows(generateDecoders(fam[1]), big, d).unit;
  const t0 = performance.now();
  const best = await kernel.topKDot(C, big, P, small, d, 1);
  const ms = performance.now() - t0;
  const truth = plantedLineage(fam[1]);
  let inherited = 0, recovered = 0, above = 0;
  for (let i = 0; i < big; i++) {
    if (truth.parentOf[i] < 0) continue;
    inherited++;
    if (best.indices[i] === truth.parentOf[i]) recovered++;
    if (best.values[i] >= 0.5) above++;
  }
  const kinds = { STABLE: 0, SPLIT: 0, VANISHED: 0 };
  for (const k of truth.kinds) kinds[k]++;
  rows.push({
    suite: "distribution", name: `planted lineage recovered by exact best match`, backend: `kernel:${kernel.backend}`,
    sizes: { parents: small, children: big, d_in: d }, params: { seed: 7 }, reps: 1, metric: "recovered share", unit: "fraction",
    value: round(recovered / inherited, 4), better: "higher",
    extra: { inheritedChildren: inherited, novelChildren: big - inherited, "best cosine >= 0.5": round(above / inherited, 4), parentsStable: kinds.STABLE, parentsSplit: kinds.SPLIT, parentsVanished: kinds.VANISHED, productMs: round(ms, 1) },
  });
}

await kernel.close();
emit({ suite: "distribution", rows, notes, meta });
