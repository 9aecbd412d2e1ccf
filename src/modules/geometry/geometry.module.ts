// Wires the geometry module: repository, decoder-matrix cache, the native kernel (created on
// first use, closed with the app) and the services built on them.
import type { Database } from "../../db/database.ts";
import type { Logger } from "../../logger.ts";
import { createKernel, type Kernel } from "../../kernel/index.ts";
import type { RequestLimits } from "../limits.ts";
import { GeometryRepository } from "./geometry.repository.ts";
import { LineageRepository } from "./lineage.repository.ts";
import { LineageService } from "./lineage.service.ts";
import { MatrixCache } from "./matrix-cache.ts";
import { NearestService } from "./nearest.service.ts";

/**
 * Largest SAE (features² × d_in multiply-adds) whose neighbour lists are precomputed after
 * ingest; beyond it feature → feature queries use the in-process scan instead.
 */
export const NEIGHBOUR_LIST_MAX_WORK = 1.2e13;

export function createGeometry(db: Database, log: Logger, limits?: RequestLimits) {
  const repo = new GeometryRepository(db);
  const cache = new MatrixCache(repo);
  let kernel: Promise<Kernel> | null = null;
  const getKernel = () => (kernel ??= createKernel());
  const nearest = new NearestService(repo, cache, getKernel, limits);
  const lineage = new LineageService(new LineageRepository(db), repo, cache, getKernel);
  return {
    nearest,
    lineage,
    kernel: getKernel,
    /** Ready SAEs among ids, with their family and version. */
    saes: (ids: readonly string[]) => repo.saes(ids),
    /** Called when an SAE's rows changed (ingest hook): drop its cached matrix. */
    invalidate(saeId: string) {
      cache.invalidate(saeId);
    },
    /**
     * Post-ingest step: refresh the cache, precompute neighbour lists when affordable, and
     * rebuild the split lineage of the SAE's family (which ingest marked stale).
     */
    async onSaeReady(saeId: string) {
      cache.invalidate(saeId);
      const [sae] = await repo.saes([saeId]);
      if (!sae) return;
      if (sae.dSae * sae.dSae * sae.dIn > NEIGHBOUR_LIST_MAX_WORK) {
        await repo.clearNeighbourLists(saeId);
        log.info(`SAE ${saeId}: ${sae.dSae} features, too many to precompute neighbour lists; neighbours come from scans`);
      } else {
        const r = await nearest.buildNeighbourLists(saeId);
        log.info(`SAE ${saeId}: stored top-${r.k} neighbours of ${r.features} features in ${r.seconds.toFixed(1)} s`);
      }
      if (sae.familyId) {
        const r = await lineage.build(sae.familyId);
        log.info(`family ${sae.familyId}: split lineage of ${r.saes.length} sizes rebuilt in ${r.seconds.toFixed(1)} s`);
      }
    },
    /** Post-merge step when only examples changed: the lineage's co-activation signal follows them. */
    async onExamplesChanged(saeId: string) {
      const [sae] = await repo.saes([saeId]);
      if (sae?.familyId) await lineage.refreshCoactivation(sae.familyId, saeId);
    },
    async close() {
      cache.clear();
      if (kernel) await (await kernel).close();
      kernel = null;
    },
  };
}
export type Geometry = ReturnType<typeof createGeometry>;
