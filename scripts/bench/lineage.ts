// Family lineage build: SAE-like families with planted splits (scripts/bench/generator.ts) are
// loaded into PostgreSQL (and PGlite) and `lineage.build` timed end to end (matrix loads, exact
// blocked products on the native kernel, edge writes); the products themselves are compared with
// numpy/OpenBLAS doing the same top-k over the same float32 matrices, alternating.
// Full mode adds Gemma-Scope-like widths at d_in 2304: 16k -> 65k end to end, and the products of 65k -> 262k.
//   node bin/run-ts.js scripts/bench/lineage.ts [--full]
import { type App, createApp } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import { createKernel } from "../../src/kernel/index.ts";
import { silentLogger } from "../../src/logger.ts";
import { BlasBaseline } from "./blas-baseline.ts";
import { generateDecoders, planFamily, plantedLineage, unitRows } from "./generator.ts";
import { type BenchRow, benchMode, compare, createBenchDatabase, emit, emitPartialOnTimeout, log, postgresUrl, round } from "./lib.ts";
import { seedSae } from "./seed-decoders.ts";

const mode = benchMode();
const rows: BenchRow[] = [];
const notes: string[] = [];
emitPartialOnTimeout({ suite: "lineage", rows, notes });
const PARENTS = 4;

interface FamilyCase {
  name: string;
  sizes: number[];
  d: number;
  backends: Array<"postgres" | "pglite">;
  /** Time the products once, without the numpy baseline (for the largest widths). */
  kernelOnce?: boolean;
}
const cases: FamilyCase[] = [{ name: "family 2k/8k/32k d768", sizes: [2048, 8192, 32768], d: 768, backends: ["postgres", "pglite"] }];
if (mode === "full") {
  cases.push({ name: "Gemma-Scope-like 16k -> 65k d2304", sizes: [16384, 65536], d: 2304, backends: ["postgres"] });
  // The next Gemma-Scope step: 16x the products of 16k -> 65k; kernel only, once (numpy would double it).
  cases.push({ name: "Gemma-Scope-like 65k -> 262k d2304", sizes: [65536, 262144], d: 2304, backends: [], kernelOnce: true });
}

async function openApp(url: string | null): Promise<App> {
  return createApp(loadConfig({ DATABASE_URL: url ?? "" } as NodeJS.ProcessEnv), { memory: url === null, log: silentLogger });
}

async function buildCase(c: FamilyCase, backend: "postgres" | "pglite", url: string | null, mats: Float32Array[]) {
  const app = await openApp(url);
  const family = `bench-${c.sizes.join("-")}`;
  try {
    log(`${backend}: loading ${c.name}`);
    for (const [i, n] of c.sizes.entries()) {
      await seedSae(app.db, { modelId: "bench", saeId: `${family}/${n}`, familyId: family, dIn: c.d, decoders: mats[i], n });
    }
    const t0 = performance.now();
    const summary = await app.services.geometry.lineage.build(family, { parentsPerChild: PARENTS });
    const totalS = (performance.now() - t0) / 1000;
    const edges = summary.pairs.reduce((s, p) => s + p.edges, 0);
    const products = summary.pairs.reduce((s, p) => s + p.seconds, 0);
    // Planted parents recovered (best stored parent = planted parent) on the last pair.
    const plans = planFamily({ sizes: c.sizes, d: c.d, seed: 7 });
    const { parentOf } = plantedLineage(plans[plans.length - 1]);
    const last = summary.pairs[summary.pairs.length - 1];
    const best = await app.services.geometry.lineage.parentsMany(Array.from(parentOf, (_, index) => ({ saeId: last.child, index })));
    let planted = 0;
    let found = 0;
    parentOf.forEach((p, i) => {
      if (p < 0) return;
      planted++;
      if (best[i][0]?.index === p) found++;
    });
    rows.push({
      suite: "lineage", name: `${c.name}: lineage build end to end`, backend, sizes: { features: c.sizes.reduce((a, b) => a + b, 0), d_in: c.d, sizes: c.sizes.length },
      params: { threshold: summary.params.threshold, parentsPerChild: PARENTS, sizes: c.sizes.join("/") }, reps: 1,
      metric: "build time", unit: "s", value: round(totalS, 2), better: "lower",
      extra: { "products + classification s": round(products, 2), edges, "planted parents recovered": round(found / Math.max(1, planted), 4) },
      headline: backend === "postgres" && c === cases[cases.length - 1] ? "lineage-time" : undefined,
    });
  } finally {
    await app.close();
  }
}

/** The products alone: kernel topKDot vs numpy over the same unit float32 matrices. */
async function productRows(c: FamilyCase, mats: Float32Array[]) {
  const kernel = await createKernel();
  const started = c.kernelOnce ? { blas: null, reason: "not run at this width (kernel timed once)" } : await BlasBaseline.start();
  try {
    for (let i = 0; i + 1 < c.sizes.length; i++) {
      const [ns, nl] = [c.sizes[i], c.sizes[i + 1]];
      const small = unitRows(mats[i], ns, c.d).unit;
      const large = unitRows(mats[i + 1], nl, c.d).unit;
      if (started.blas) {
        await started.blas.load("small", small, ns, c.d);
        await started.blas.load("large", large, nl, c.d);
      }
      const reps = c.kernelOnce ? 1 : 3;
      const kt: number[] = [];
      const bt: number[] = [];
      for (let r = 0; r < reps; r++) {
        let t = performance.now();
        await kernel.topKDot(large, nl, small, ns, c.d, PARENTS);
        kt.push(performance.now() - t);
        if (started.blas) bt.push(await started.blas.topK("large", "small", PARENTS, undefined, 4096));
      }
      const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
      const flop = 2 * ns * nl * c.d;
      const row: BenchRow = {
        suite: "lineage", name: `${c.name}: cosine products + top-${PARENTS}, ${ns} -> ${nl}`, backend: `kernel:${kernel.backend}`,
        sizes: { parents: ns, children: nl, d_in: c.d }, reps, metric: "time", unit: "ms", value: round(med(kt)), better: "lower",
        extra: { "kernel GFLOP/s": round(flop / med(kt) / 1e6, 1) },
        headline: c.kernelOnce ? "lineage-time" : "products-vs-blas",
      };
      if (started.blas) {
        const b = med(bt);
        rows.push(
          compare({ ...row, extra: { ...row.extra, "BLAS GFLOP/s": round(flop / b / 1e6, 1) } }, { name: "numpy: blocked products + argpartition", backend: "numpy", value: round(b) }, {
            on: "ratio", op: "<=", limit: 3, source: "issue 5: exact cosine products within 3x of OpenBLAS",
          }),
        );
        await Promise.all([started.blas.free("small"), started.blas.free("large")]);
      } else rows.push(row);
    }
  } finally {
    await kernel.close();
    started.blas?.close();
  }
  if (!started.blas) notes.push(`${c.name}: BLAS baseline skipped: ${(started as { reason: string }).reason}`);
}

const server = await postgresUrl();
for (const c of cases) {
  const mats = planFamily({ sizes: c.sizes, d: c.d, seed: 7 }).map((p) => generateDecoders(p));
  log(`${c.name}: cosine products`);
  await productRows(c, mats);
  for (const backend of c.backends) {
    if (backend === "postgres") {
      if (!server.url) {
        notes.push(`PostgreSQL skipped: ${server.reason}`);
        continue;
      }
      const db = await createBenchDatabase(server.url, "lineage");
      try {
        await buildCase(c, backend, db.url, mats);
      } finally {
        await db.drop();
      }
    } else {
      await buildCase(c, backend, null, mats);
    }
  }
}
if (mode !== "full") {
  notes.push("Gemma-Scope-like widths (16k -> 65k at d_in 2304) run with --full; 65k -> 262k costs 16x the 16k -> 65k products.");
}
emit({ suite: "lineage", rows, notes });
