// Attribution graphs at the size (a generated layered DAG of 10,000 nodes and 1,000,000
// links, tests/helpers/large-graph.ts): ingest time, `graph` with pruning, graphPaths k=10 and
// graphMediators p50 through GraphQL (in process, the same pipeline as the HTTP server), beside the
// bare in-memory functions on the same graph. Runs on PGlite, or on PostgreSQL when DATABASE_URL is set.
// Prints one JSON document (scripts/bench/lib.ts); logs on stderr.
//   node bin/run-ts.js scripts/bench/graphs.ts [--nodes N] [--links N] [--reps N]
import { createApp } from "../../src/app.ts";
import { loadConfig } from "../../src/config.ts";
import { createContext } from "../../src/graphql/create-context.ts";
import { createPipeline } from "../../src/graphql/pipeline.ts";
import { runOperation } from "../../src/graphql/run-operation.ts";
import { silentLogger } from "../../src/logger.ts";
import { indexGraph } from "../../src/modules/graph/graph-index.ts";
import { parseLayerMapping } from "../../src/modules/graph/index.ts";
import { graphMediators } from "../../src/modules/graph/mediators.ts";
import { graphPaths, preparePathBounds } from "../../src/modules/graph/paths.ts";
import { toGraphShape } from "../../tests/helpers/graph-generator.ts";
import { largeGraph } from "../../tests/helpers/large-graph.ts";
import { type BenchRow, emit, intArg, log, measure, round, timeMs, type Timing } from "./lib.ts";

const nodes = intArg("nodes", 10_000);
const links = intArg("links", 1_000_000);
const reps = intArg("reps", 30);
const K = 10;
const MAX_LENGTH = 6;

const config = loadConfig(process.env);
const app = await createApp(config, { log: silentLogger, memory: config.database.kind === "pglite" });
const backend = app.db.backend;
try {
  log(`generating ${nodes} nodes / ${links} links`);
  const graph = largeGraph({ nodes, links });
  const text = JSON.stringify(graph);
  const slug = graph.metadata.slug;
  const logits = graph.nodes.filter((n) => n.feature_type === "logit").map((n) => n.node_id);
  // Targets: every logit, and late-layer features (their in-neighbourhood is the deepest).
  const lateFeatures = graph.nodes.filter((n) => n.feature_type === "cross layer transcoder").slice(-200).filter((_, i) => i % 40 === 0).map((n) => n.node_id);
  const targets = [...logits, ...lateFeatures];
  // Starts for `from` queries: early-layer features (layers 0..2).
  const starts = graph.nodes.filter((n) => n.feature_type === "cross layer transcoder" && Number(n.layer) <= 2).filter((_, i) => i % 97 === 0).slice(0, 10).map((n) => n.node_id);
  log(`${backend}: ingesting ${round(text.length / 2 ** 20, 1)} MiB of graph JSON`);
  const ingestMs = await timeMs(() => app.services.graph.ingest(text, { file: "bench.json", replace: false, mapping: parseLayerMapping([], null) }));

  // One pipeline (schema, rules, plugins) for every request, as the HTTP server holds; a context per request.
  const pipeline = createPipeline(app);
  const gql = async (query: string, variables: Record<string, unknown>) => {
    const r = await runOperation(pipeline, { query, variables }, createContext(app, { authenticated: true, clientId: "bench" }));
    if (r.errors) throw new Error(`GraphQL errors: ${JSON.stringify(r.errors).slice(0, 400)}`);
    return r.data as Record<string, unknown>;
  };
  const PATHS = `query ($slug: ID!, $to: ID!, $from: ID) { graphPaths(slug: $slug, to: $to, from: $from, k: ${K}, maxLength: ${MAX_LENGTH}) { weight nodes { nodeId kind layer ctxIdx } } }`;
  const MEDIATORS = `query ($slug: ID!, $target: ID!) { graphMediators(slug: $slug, target: $target, k: ${K}) { indirectEffect directFromPrompt node { nodeId kind label } } }`;
  const PRUNED = `query ($slug: ID!, $t: Float, $w: Float) { graph(slug: $slug, nodeThreshold: $t, minEdgeWeight: $w) { nodeCount linkCount nodes { nodeId kind influence } links { source target weight } } }`;

  // The first search after ingest reads the rows and builds the in-memory graph and its index.
  const coldMs = await timeMs(() => gql(PATHS, { slug, to: logits[0] }));
  log(`${backend}: first graphPaths (load + index) ${round(coldMs, 0)} ms; timing ${reps} calls each`);
  const paths = await measure((i) => gql(PATHS, { slug, to: targets[Math.abs(i) % targets.length] }), { reps, warmup: 2 });
  const pathsFrom = await measure((i) => gql(PATHS, { slug, to: logits[Math.abs(i) % logits.length], from: starts[Math.abs(i) % starts.length] }), { reps, warmup: 2 });
  const mediators = await measure((i) => gql(MEDIATORS, { slug, target: targets[Math.abs(i) % targets.length] }), { reps, warmup: 2 });
  // The floor every request pays: parse, validate, cost check, one indexed row read (the graph by slug).
  const floor = await measure(() => gql(`query ($slug: ID!) { graph(slug: $slug) { slug nodeCount } }`, { slug }), { reps, warmup: 2 });
  let kept = { nodes: 0, links: 0 };
  const pruned = await measure(async () => {
    const d = (await gql(PRUNED, { slug, t: 0.1, w: 5 })).graph as { nodes: unknown[]; links: unknown[] };
    kept = { nodes: d.nodes.length, links: d.links.length };
  }, { reps: Math.max(5, Math.floor(reps / 3)), warmup: 1 });

  // The bare functions on the same graph (no database, no GraphQL): what the search itself costs.
  let index: ReturnType<typeof indexGraph> | null = null;
  const indexMs = await timeMs(() => (index = indexGraph(toGraphShape(graph))));
  const idx = index!;
  const boundsMs = await timeMs(() => preparePathBounds(idx, MAX_LENGTH));
  const memPaths = await measure((i) => graphPaths(idx, { to: targets[Math.abs(i) % targets.length]!, k: K, maxLength: MAX_LENGTH }), { reps, warmup: 2 });
  const memPathsFrom = await measure((i) => graphPaths(idx, { to: logits[Math.abs(i) % logits.length]!, from: starts[Math.abs(i) % starts.length]!, k: K, maxLength: MAX_LENGTH }), { reps, warmup: 2 });
  const memMediators = await measure((i) => graphMediators(idx, { target: targets[Math.abs(i) % targets.length]!, k: K }), { reps, warmup: 2 });

  const sizes = { nodes: graph.nodes.length, links: graph.links.length };
  const bar = { on: "value" as const, op: "<=" as const, limit: 200, source: "issue 17" };
  const latency = (name: string, where: string, t: Timing, params: BenchRow["params"], extra: BenchRow["extra"] = {}, target?: BenchRow["target"]): BenchRow => ({
    suite: "graphs", name, backend: where, sizes, params, reps: t.samples.length, metric: "p50 latency", unit: "ms",
    value: round(t.p50, 2), better: "lower", extra: { p99: round(t.p99, 2), ...extra }, ...(target ? { target } : {}),
  });
  const rows: BenchRow[] = [
    {
      suite: "graphs", name: "ingest graph JSON (validate, store nodes + links)", backend, sizes, reps: 1, metric: "ingest time", unit: "s",
      value: round(ingestMs / 1000, 2), better: "lower", extra: { linksPerSecond: round(links / (ingestMs / 1000), 0), jsonMiB: round(text.length / 2 ** 20, 1) },
    },
    {
      suite: "graphs", name: "first search after ingest (rows -> in-memory graph + index)", backend, sizes, reps: 1, metric: "latency", unit: "ms",
      value: round(coldMs, 0), better: "lower", extra: { note: "once per graph per process: the rows are read, indexed and the path bound tables built; then cached" },
    },
    latency("graphPaths k=10 maxLength=6 (GraphQL)", `graphql:${backend}`, paths, { k: K, maxLength: MAX_LENGTH, targets: targets.length }, {}, bar),
    latency("graphPaths from=<early feature> k=10 maxLength=6 (GraphQL)", `graphql:${backend}`, pathsFrom, { k: K, maxLength: MAX_LENGTH, starts: starts.length }, {}, bar),
    latency("graphMediators k=10 (GraphQL)", `graphql:${backend}`, mediators, { k: K, targets: targets.length }, {}, bar),
    latency("graph nodeThreshold=0.1 minEdgeWeight=5 (GraphQL)", `graphql:${backend}`, pruned, { nodeThreshold: 0.1, minEdgeWeight: 5 }, { keptNodes: kept.nodes, keptLinks: kept.links }),
    latency("floor: graph(slug) { slug nodeCount } (GraphQL)", `graphql:${backend}`, floor, {}),
    latency("graphPaths k=10 maxLength=6 (in-memory function)", "memory", memPaths, { k: K, maxLength: MAX_LENGTH }, { indexBuildMs: round(indexMs, 0), boundTablesMs: round(boundsMs, 0) }),
    latency("graphPaths from=<early feature> k=10 maxLength=6 (in-memory function)", "memory", memPathsFrom, { k: K, maxLength: MAX_LENGTH }),
    latency("graphMediators k=10 (in-memory function)", "memory", memMediators, { k: K }),
  ];
  emit({
    suite: "graphs",
    rows,
    notes: [
      `${backend}: a generated layered DAG (tests/helpers/large-graph.ts, seed 7): ${sizes.nodes} nodes, ${sizes.links} links, signed log-normal weights; ${round(text.length / 2 ** 20, 1)} MiB of JSON.`,
      `Searches cycle over ${targets.length} targets (${logits.length} logits and ${lateFeatures.length} late-layer features); the GraphQL rows run in process through the server's pipeline (parse, validation, cost limit, resolvers) on the cached in-memory graph.`,
    ],
  });
} finally {
  await app.close();
}
