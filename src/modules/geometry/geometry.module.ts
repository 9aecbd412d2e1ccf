// Wires the geometry module: repository, decoder-matrix cache, the native kernel (created on
// first use, closed with the app) and the services built on them.
import type { Database } from "../../db/database.ts";
import type { Logger } from "../../logger.ts";
import { createKernel, type Kernel } from "../../kernel/index.ts";
import { GeometryRepository } from "./geometry.repository.ts";
import { MatrixCache } from "./matrix-cache.ts";
import { NearestService } from "./nearest.service.ts";

/**
 * Largest SAE (features² × d_in multiply-adds) whose neighbour lists are precomputed after
 * ingest; beyond it feature → feature queries use the in-process scan instead.
 */
export const NEIGHBOUR_LIST_MAX_WORK = 1.2e13;

export function createGeometry(db: Database, log: Logger) {
  const repo = new GeometryRepository(db);
  const cache = new MatrixCache(repo);
  let kernel: Promise<Kernel> | null = null;
  const getKernel = () => (kernel ??= createKernel());
  const nearest = new NearestService(repo, cache, getKernel);
  return {
    nearest,
    kernel: getKernel,
    /** Called when an SAE's rows changed (ingest hook): drop its cached matrix. */
    invalidate(saeId: string) {
      cache.invalidate(saeId);
    },
    /** Post-ingest step: refresh the cache, then precompute neighbour lists when affordable. */
    async onSaeReady(saeId: string) {
      cache.invalidate(saeId);
      const [sae] = await repo.saes([saeId]);
      if (!sae) return;
      if (sae.dSae * sae.dSae * sae.dIn > NEIGHBOUR_LIST_MAX_WORK) {
        await repo.clearNeighbourLists(saeId);
        log.info(`SAE ${saeId}: ${sae.dSae} features, too many to precompute neighbour lists; neighbours come from scans`);
        return;
      }
      const r = await nearest.buildNeighbourLists(saeId);
      log.info(`SAE ${saeId}: stored top-${r.k} neighbours of ${r.features} features in ${r.seconds.toFixed(1)} s`);
    },
    async close() {
      cache.clear();
      if (kernel) await (await kernel).close();
      kernel = null;
    },
  };
}
export type Geometry = ReturnType<typeof createGeometry>;
