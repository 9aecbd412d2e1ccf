// The composition root: builds the database handle, repositories, services and
// clients once and passes them down. No module-level singletons.
import { AutoInterpService } from "./autointerp/autointerp.service.ts";
import { createLlmClient } from "./autointerp/llm-client.ts";
import type { Config } from "./config.ts";
import { type Database, openDatabase, type OpenOptions } from "./db/database.ts";
import { migrate } from "./db/migrate.ts";
import { IngestRepository } from "./ingest/ingest.repository.ts";
import { IngestService } from "./ingest/ingest.service.ts";
import { createLogger, type Logger } from "./logger.ts";
import { ExamplesRepository } from "./modules/explanation/examples.repository.ts";
import { ExplanationRepository } from "./modules/explanation/explanation.repository.ts";
import { ExplanationService } from "./modules/explanation/explanation.service.ts";
import { FeatureRepository } from "./modules/feature/feature.repository.ts";
import { JobRepository } from "./modules/job/job.repository.ts";
import { JobService } from "./modules/job/job.service.ts";
import { FeatureService } from "./modules/feature/feature.service.ts";
import { createGeometry } from "./modules/geometry/geometry.module.ts";
import { SaeRepository } from "./modules/sae/sae.repository.ts";
import { SaeService } from "./modules/sae/sae.service.ts";
import { SearchRepository } from "./modules/search/search.repository.ts";
import { SearchService } from "./modules/search/search.service.ts";
import { StatsRepository } from "./modules/stats/stats.repository.ts";
import { StatsService } from "./modules/stats/stats.service.ts";
import { EncodeRepository } from "./modules/encode/encode.repository.ts";
import { EncodeService } from "./modules/encode/encode.service.ts";
import { GeometryRepository } from "./modules/geometry/geometry.repository.ts";
import { UmapRepository } from "./modules/geometry/umap.repository.ts";
import { UmapService } from "./modules/geometry/umap.service.ts";
import { AlignmentRepository } from "./modules/geometry/alignment.repository.ts";
import { AlignmentService } from "./modules/geometry/alignment.service.ts";

export interface App {
  config: Config;
  db: Database;
  log: Logger;
  services: ReturnType<typeof buildServices>;
  close(): Promise<void>;
}

function buildServices(config: Config, db: Database, log: Logger) {
  const sae = new SaeService(new SaeRepository(db));
  const feature = new FeatureService(new FeatureRepository(db), sae, config.server);
  // Geometry and others append post-ingest builders to ingest.hooks.onSaeReady.
  const ingest = new IngestService(db, new IngestRepository(db), log, { onSaeReady: [], onExamplesChanged: [] });
  // Imported labels and activating text become searchable as soon as an SAE is ready, and again
  // when a merge adds examples or labels.
  const reindex = async (saeId: string) => {
    await search.indexSae(saeId);
  };
  ingest.hooks.onSaeReady.push(reindex);
  ingest.hooks.onExamplesChanged!.push(reindex);
  // One client for the whole process, so its concurrency limit holds across all callers.
  const llm = config.llm ? createLlmClient(config.llm) : null;
  const search = new SearchService(new SearchRepository(db), sae, {
    llm: config.llm && llm ? { client: llm, embeddingModel: config.llm.embeddingModel } : null,
    maxK: config.server.maxK,
    log,
  });
  // Decoder geometry: after ingest, drop the SAE's cached matrix and store its neighbour lists.
  const geometry = createGeometry(db, log, config.server);
  ingest.hooks.onSaeReady.push((saeId) => geometry.onSaeReady(saeId));
  ingest.hooks.onExamplesChanged!.push((saeId) => geometry.onExamplesChanged(saeId));
  const stats = new StatsService(new StatsRepository(db));
  const encode = new EncodeService(new EncodeRepository(db), { maxK: config.server.maxK, log });
  const explanationRepo = new ExplanationRepository(db);
  const explanation = new ExplanationService(explanationRepo);
  const jobs = new JobService(new JobRepository(db), config.server);
  const autointerp = new AutoInterpService({
    config,
    llm,
    jobs,
    explanations: explanationRepo,
    examples: new ExamplesRepository(db),
    sae,
    log,
    // New labels become searchable (search documents, offline label vectors).
    onLabelsChanged: [(saeId) => search.indexSae(saeId)],
  });
  // 2-D maps of decoder directions for SAEs up to 20k features (larger ones: `monoscope map`).
  const umap = new UmapService(new UmapRepository(db), new GeometryRepository(db), geometry.kernel, log);
  ingest.hooks.onSaeReady.push((saeId) => umap.onSaeReady(saeId));
  // Decoder-neuron alignment for features that arrived without one (ingest computes it inline).
  const alignment = new AlignmentService(new AlignmentRepository(db), log);
  ingest.hooks.onSaeReady.push((saeId) => alignment.onSaeReady(saeId));
  return { sae, feature, ingest, search, stats, geometry, encode, llm, explanation, jobs, autointerp, umap, alignment };
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
  const services = buildServices(config, db, log);
  return {
    config,
    db,
    log,
    services,
    async close() {
      // Background jobs pause (back to QUEUED) before the database goes away.
      await services.autointerp.close();
      await services.geometry.close();
      await db.close();
    },
  };
}
