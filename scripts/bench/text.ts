// activateText on the demo (issue 18): a 64-token text through the glove-wordnet source and the
// demo's 8192 SAE, end to end through the server's GraphQL pipeline in process (parse, validate,
// limits, cost, resolvers, a fresh per-request context each call; no HTTP),
// beside the encoder batch alone (EncodeService.encodeMany on the same token vectors: the kernel's
// product and the top-k selection) and the per-token database scan it replaces. Runs on PGlite,
// or on PostgreSQL when DATABASE_URL is set. Prints one JSON document (scripts/bench/lib.ts).
//   node bin/run-ts.js scripts/bench/text.ts [--full] [--reps N]
import { availableParallelism, loadavg } from "node:os";
import { createApp } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import { createContext } from "../../src/graphql/create-context.ts";
import { createPipeline } from "../../src/graphql/pipeline.ts";
import { runOperation } from "../../src/graphql/run-operation.ts";
import { importSaelens } from "../../src/ingest/saelens/import-saelens.ts";
import { silentLogger } from "../../src/logger.ts";
import { EncodeRepository } from "../../src/modules/encode/encode.repository.ts";
import { EncodeService } from "../../src/modules/encode/encode.service.ts";
import { packagePath } from "../../src/paths.ts";
import { wordTokens } from "../../src/shared/word-tokens.ts";
import { type BenchRow, benchMode, emit, intArg, log, measure, measureAlternating, round, timeMs } from "./lib.ts";

const mode = benchMode();
const reps = intArg("reps", mode === "full" ? 300 : 100);
const TOKENS = 64;
const SAE = "glove-6b-100d/demo/8192";
const K = 5;

// A WordNet-like passage, cut to exactly 64 tokens (words, numbers, punctuation as the source splits them).
const PASSAGE =
  "The brigade marched north at dawn, crossing the river near the old stone bridge. Scouts reported enemy cavalry " +
  "on the ridge; the colonel ordered the artillery forward and the infantry to dig in along the orchard wall. " +
  "By noon the rain had turned the roads to mud, and the supply wagons fell behind the column of tired soldiers.";
const TEXT = wordTokens(PASSAGE).slice(0, TOKENS).map((t) => t.text).join("");

const config = loadConfig(process.env);
const app = await createApp(config, { log: silentLogger, memory: config.database.kind === "pglite" });
const backend = app.db.backend;
try {
  app.services.ingest.steps = null; // neighbour lists, lineage and maps are not what this measures
  log(`${backend}: ingesting the demo SAE 8192`);
  const ingestMs = await timeMs(() => importSaelens(app.services.ingest, { dir: packagePath("data", "demo", "saes", "8192"), saeId: SAE }));
  const query = `query($s: ID!, $t: String!, $k: Int) { activateText(saeId: $s, text: $t, k: $k) { tokens { token features { activation feature { index } } } } }`;
  const pipeline = createPipeline(app);
  const run = async () => {
    const r = await runOperation(pipeline, { query, variables: { s: SAE, t: TEXT, k: K } }, createContext(app, { authenticated: true, clientId: "bench" }));
    if (r.errors) throw new Error(JSON.stringify(r.errors));
    return r.data as { activateText: { tokens: { features: unknown[] }[] } };
  };
  const firstMs = await timeMs(run); // the word table's load and the encoder matrix's, once
  const first = await run();
  const tokens = first.activateText.tokens.length;
  if (tokens !== TOKENS) throw new Error(`the bench text has ${tokens} tokens, expected ${TOKENS}`);
  const { acts } = await app.services.text.activations(SAE, TEXT);
  const kept: number[] = [];
  for (let t = 0; t < acts.tokens.length; t++) if (acts.vectors.subarray(t * acts.dIn, (t + 1) * acts.dIn).some((v) => v !== 0)) kept.push(t);
  const rows = new Float32Array(kept.length * acts.dIn);
  kept.forEach((t, i) => rows.set(acts.vectors.subarray(t * acts.dIn, (t + 1) * acts.dIn), i * acts.dIn));

  log(`${backend}: ${reps} alternating calls: GraphQL activateText vs the encoder batch alone`);
  const t = await measureAlternating(
    { graphql: () => run(), batch: () => app.services.encode.encodeMany(SAE, rows, acts.dIn, K) },
    { reps, warmup: 5 },
  );
  // CPU time of the process per call (all threads), beside wall time: on a shared machine the wall
  // time includes waiting for a core, the CPU time does not.
  const cpu: number[] = [];
  for (let i = 0; i < Math.min(reps, 50); i++) {
    const c0 = process.cpuUsage();
    await run();
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  cpu.sort((a, b) => a - b);
  const cpuP50 = cpu[Math.floor(cpu.length / 2)]!;
  const scanReps = Math.max(3, Math.round(reps / 20));
  const db = new EncodeService(new EncodeRepository(app.db), { maxK: 1000, log: silentLogger, mode: "database" });
  log(`${backend}: ${scanReps} calls of the per-token database scan`);
  const scan = await measure(() => db.encodeMany(SAE, rows, acts.dIn, K), { reps: scanReps, warmup: 1 });

  const sizes = { tokens: TOKENS, in_vocabulary: kept.length, features: 8192, d_in: 100, k: K };
  const row = (name: string, tm: { p50: number; p99: number }, n: number, extra: Record<string, number> = {}): BenchRow => ({
    suite: "text",
    name,
    backend,
    sizes,
    reps: n,
    metric: "p50 latency",
    unit: "ms",
    value: round(tm.p50, 2),
    better: "lower",
    extra: { p99: round(tm.p99, 2), ...extra },
  });
  const batchName = "encoder batch alone (EncodeService.encodeMany, in-process matrix)";
  const rowsOut: BenchRow[] = [
    {
      ...row("activateText, 64 tokens, demo SAE 8192 (GraphQL end to end)", t.graphql, reps, { firstCallMs: round(firstMs, 0), cpuMsP50: round(cpuP50, 2) }),
      baseline: { name: batchName, backend, value: round(t.batch.p50, 2) },
      ratio: round(t.graphql.p50 / t.batch.p50, 3),
      target: { on: "value", op: "<=", limit: 20, source: "issue 18: activateText for 64 tokens on the demo's 8192 SAE, p50 <= 20 ms" },
    },
    row(batchName, t.batch, reps),
    row("per-token database scan (pgvector <#>), for comparison", scan, scanReps),
  ];
  emit({
    suite: "text",
    rows: rowsOut,
    notes: [
      `${backend}: ingest of the demo SAE 8192 took ${round(ingestMs / 1000, 1)} s; the first activateText (word table and encoder matrix loads) ${round(firstMs, 0)} ms.`,
      `Load average during the run: ${loadavg().map((x) => x.toFixed(1)).join(", ")} (1, 5, 15 min) on ${availableParallelism()} cores; cpuMsP50 is the process's CPU time per call (all threads).`,
      `The text: ${JSON.stringify(TEXT)} (${kept.length} of ${TOKENS} tokens in the vocabulary; the others have no features).`,
    ],
  });
} finally {
  await app.close();
}
