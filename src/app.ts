// The composition root: opens the database, builds each module from its dependencies
// (modules/<domain>/index.ts) and wires the modules together: ingest's durable
// post-ingest steps, auto-interp's label hook, one LLM client. No module-level singletons.
import type { Config } from "./config.ts";
import { type Database, openDatabase, type OpenOptions } from "./db/database.ts";
import { migrate } from "./db/migrate.ts";
import { type ReadRouting, withReadReplicas } from "./db/replicas.ts";
import { ExportService } from "./ingest/export/export.service.ts";
import { IngestRepository } from "./ingest/ingest.repository.ts";
import { IngestService } from "./ingest/ingest.service.ts";
import { loadNativeScan } from "./kernel/native-scan.ts";
import { createLogger, type Logger } from "./logger.ts";
import { buildAutoInterpModule, createLlmClient } from "./modules/autointerp/index.ts";
import { buildEncodeModule } from "./modules/encode/index.ts";
import { buildExplanationModule } from "./modules/explanation/index.ts";
import { buildFeatureModule } from "./modules/feature/index.ts";
import { buildGeometryModule } from "./modules/geometry/index.ts";
import { buildImageModule } from "./modules/image/index.ts";
import { buildGraphModule } from "./modules/graph/index.ts";
import { buildJobModule } from "./modules/job/index.ts";
import { buildListModule } from "./modules/list/index.ts";
import { buildSaeModule } from "./modules/sae/index.ts";
import { buildSearchModule } from "./modules/search/index.ts";
import { buildSizesModule } from "./modules/sizes/index.ts";
import { buildStatsModule } from "./modules/stats/index.ts";
import { buildTextModule } from "./modules/text/index.ts";
import { modelEnvKey } from "./config.ts";

export type Services = ReturnType<typeof buildServices>;

export interface App {
  config: Config;
  db: Database;
  log: Logger;
  services: Services;
  /** Read replicas (DATABASE_READ_URLS), null without them. */
  readRouting: ReadRouting | null;
  close(): Promise<void>;
}

function buildServices(config: Config, db: Database, log: Logger) {
  const { sae } = buildSaeModule(db);
  const { feature } = buildFeatureModule(db, { sae }, config.server);
  const { stats } = buildStatsModule(db);
  const { jobs, steps } = buildJobModule(db, log, config.server);
  const { lists } = buildListModule(db);
  const { sizes } = buildSizesModule(db, { textTokens: config.text.maxTokens });
  const { encode } = buildEncodeModule(db, { maxK: config.server.maxK, log, kernel: config.kernel.backend });
  const { text, sources } = buildTextModule(db, { encode }, { maxK: config.server.maxK, text: config.text, modelEnvKey });
  const { images } = buildImageModule(db);
  const { graph } = buildGraphModule(db, config.server);
  // One client for the whole process, so its concurrency limit holds across all callers.
  const llm = config.llm ? createLlmClient(config.llm) : null;
  const { search } = buildSearchModule(db, { sae }, {
    llm: config.llm && llm ? { client: llm, embeddingModel: config.llm.embeddingModel } : null,
    maxK: config.server.maxK,
    log,
  });
  // Human labels become searchable like the others (only the labelled feature is reindexed).
  const { explanation, examples } = buildExplanationModule(db, { onLabelsChanged: [(saeId, indices) => search.indexFeatures(saeId, indices)], log });
  const { geometry, umap, alignment } = buildGeometryModule({
    db,
    log,
    kernel: config.kernel.backend,
    native: loadNativeScan(config.kernel.nativeScan),
    limits: config.server,
    matrixCacheBytes: config.matrixCacheBytes,
  });
  const { autointerp } = buildAutoInterpModule({
    config,
    llm,
    jobs,
    explanations: explanation,
    examples,
    sae,
    log,
    // New labels become searchable (search documents, offline label vectors).
    onLabelsChanged: [(saeId) => search.indexSae(saeId)],
  });

  // Post-ingest steps, in the order they run; durable (job module), so a rerun finishes what a
  // kill left. Imported labels and activating text become searchable; decoder geometry stores
  // neighbour lists and lineage; maps and alignment fill in. A merge that only adds examples or
  // labels reindexes search and refreshes co-activation.
  steps.register({ name: "search", on: ["ready", "updated", "examples"], run: async (id) => void (await search.indexSae(id)) });
  steps.register({
    name: "neighbours",
    on: ["ready", "updated"],
    run: (id, ctx) => geometry.buildNeighbourListsStep(id, { restart: ctx.fresh, signal: ctx.signal, progress: ctx.progress }),
  });
  steps.register({ name: "lineage", on: ["ready", "updated"], run: (id) => geometry.rebuildLineage(id) });
  steps.register({ name: "umap", on: ["ready", "updated"], run: (id) => umap.onSaeReady(id) });
  steps.register({ name: "alignment", on: ["ready", "updated"], run: (id) => alignment.onSaeReady(id) });
  steps.register({ name: "coactivation", on: ["examples"], run: (id) => geometry.onExamplesChanged(id) });
  const ingest = new IngestService(db, new IngestRepository(db), log, steps, config.deleteGraceMs);
  const exporter = new ExportService(db);
  return { sae, feature, ingest, exporter, search, stats, geometry, encode, llm, explanation, examples, jobs, steps, autointerp, umap, alignment, lists, text, sources, sizes, images, graph };
}

export interface CreateAppOptions extends OpenOptions {
  /** Apply pending migrations first (default true). */
  migrate?: boolean;
  log?: Logger;
}

export async function createApp(config: Config, options: CreateAppOptions = {}): Promise<App> {
  const log = options.log ?? createLogger(config);
  const db = await openDatabase(config, options);
  try {
    if (options.migrate !== false) {
      const r = await migrate(db, (line) => log.info(line));
      if (r.applied.length) log.info(`database ready (${db.location}); applied ${r.applied.length} migration(s)`);
    }
  } catch (e) {
    await db.close();
    throw e;
  }
  let routed: { db: Database; routing: ReadRouting } | null = null;
  if (config.database.kind === "postgres" && config.database.replicas.urls.length) {
    const { replicas, poolSize, preparedStatements } = config.database;
    routed = await withReadReplicas(db, { ...replicas, poolSize, preparedStatements });
    for (const r of routed.routing.status()) log.info(`read replica ${r.name}: ${r.state}${r.lagMs === null ? "" : ` (lag ${r.lagMs} ms)`}`);
  }
  const services = buildServices(config, routed?.db ?? db, log);
  // SAEs deleted by a process that went away before their grace passed: dropped now, or on time.
  await services.ingest.dropDue().catch((e) => log.warn(`could not drop the rows of deleted SAEs (${(e as Error).message}); the next start or delete tries again`));
  return {
    config,
    db: routed?.db ?? db,
    log,
    services,
    readRouting: routed?.routing ?? null,
    async close() {
      // Background jobs pause (back to QUEUED, post-ingest steps to PENDING) before the database goes away.
      await services.ingest.close();
      await services.steps.close();
      await services.autointerp.close();
      await services.geometry.close();
      await services.sources.close();
      await services.encode.close();
      await (routed?.db ?? db).close();
    },
  };
}
