// The geometry module: decoder-matrix cache, the matrix kernel (created on first use, closed
// with the app), nearest features, split lineage, 2-D maps and decoder-neuron alignment.
import type { Database } from "../../db/database.ts";
import { createKernel, type Kernel, type KernelOptions } from "../../kernel/index.ts";
import type { NativeScan } from "../../kernel/native-scan.ts";
import type { Logger } from "../../logger.ts";
import type { RequestLimits } from "../../shared/limits.ts";
import { AlignmentRepository } from "./alignment.repository.ts";
import { AlignmentService } from "./alignment.service.ts";
import { GeometryRepository } from "./geometry.repository.ts";
import { GeometryService } from "./geometry.service.ts";
import { LineageRepository } from "./lineage.repository.ts";
import { LineageService } from "./lineage.service.ts";
import { MatrixCache } from "./matrix-cache.ts";
import { NearestService } from "./nearest.service.ts";
import { UmapRepository } from "./umap.repository.ts";
import { UmapService } from "./umap.service.ts";

export { lineageResolvers } from "./lineage.resolvers.ts";
export { nearestResolvers } from "./nearest.resolvers.ts";
export { createGeometryLoaders, type GeometryLoaders } from "./geometry.loaders.ts";
export { AlignmentService } from "./alignment.service.ts";
export { GeometryService, NEIGHBOUR_LIST_MAX_WORK } from "./geometry.service.ts";
export { UmapService } from "./umap.service.ts";

export interface GeometryDeps {
  db: Database;
  log: Logger;
  /** config.kernel.backend. */
  kernel: KernelOptions["backend"];
  /** The loaded native 4-bit scan (null: int8 scans only). */
  native: NativeScan | null;
  /** Argument bounds (k) for nearest-feature queries. */
  limits?: RequestLimits;
  /** Byte budget of the decoder-matrix cache (config.matrixCacheBytes; null or absent: sized from memory). */
  matrixCacheBytes?: number | null;
}

export function buildGeometryModule({ db, log, kernel: backend, native, limits, matrixCacheBytes }: GeometryDeps) {
  const repo = new GeometryRepository(db);
  const cache = new MatrixCache(repo, native, matrixCacheBytes ?? undefined);
  let kernel: Promise<Kernel> | null = null;
  const getKernel = () => (kernel ??= createKernel({ backend }));
  const closeKernel = async () => {
    const k = kernel;
    kernel = null;
    if (k) await (await k).close();
  };
  const nearest = new NearestService(repo, cache, getKernel, limits);
  const lineage = new LineageService(new LineageRepository(db), repo, cache, getKernel);
  return {
    geometry: new GeometryService(repo, cache, nearest, lineage, getKernel, closeKernel, log),
    // 2-D maps of decoder directions for SAEs up to 20k features (larger ones: `monoscope map`).
    umap: new UmapService(new UmapRepository(db), repo, getKernel, log, native),
    // Decoder-neuron alignment for features that arrived without one (ingest computes it inline).
    alignment: new AlignmentService(new AlignmentRepository(db), log),
  };
}
