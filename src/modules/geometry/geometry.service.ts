// Decoder geometry as the rest of the app sees it: nearest features, split lineage, the
// post-ingest builders (neighbour lists, lineage) and the kernel's lifetime.
import type { Kernel } from "../../kernel/index.ts";
import type { NativeScan } from "../../kernel/native-scan.ts";
import type { Logger } from "../../logger.ts";
import type { GeometryRepository, SaeGeometry } from "./geometry.repository.ts";
import type { LineageService } from "./lineage.service.ts";
import type { MatrixCache } from "./matrix-cache.ts";
import type { NearestService } from "./nearest.service.ts";

export type { SaeGeometry } from "./geometry.repository.ts";

/**
 * Largest SAE (features² × d_in multiply-adds) whose neighbour lists are built by an exhaustive
 * scan after ingest; beyond it the candidates come from an IVF partition (ivf-neighbours.ts).
 */
export const NEIGHBOUR_LIST_MAX_WORK = 1.2e13;

export interface NeighbourStepRun {
  /** Drop stored lists first (the decoders changed since they were built). */
  restart: boolean;
  signal?: AbortSignal;
  progress(done: number, total: number): Promise<void>;
}

export class GeometryService {
  constructor(
    private readonly repo: GeometryRepository,
    private readonly cache: MatrixCache,
    readonly nearest: NearestService,
    readonly lineage: LineageService,
    /** The matrix kernel, created on first use. */
    readonly kernel: () => Promise<Kernel>,
    private readonly closeKernel: () => Promise<void>,
    private readonly log: Logger,
  ) {}

  /** What the decoder-matrix cache holds now, its budget and its loads since start (/metrics). */
  matrixCacheStats(): { bytes: number; matrices: number; loads: number; budgetBytes: number } {
    return { bytes: this.cache.bytes, matrices: this.cache.size, loads: this.cache.loads, budgetBytes: this.cache.budgetBytes };
  }

  /** The native 4-bit scan the decoder matrices use, or null (int8 scans only). */
  get nativeScan(): NativeScan | null {
    return this.cache.native;
  }

  /** Ready SAEs among ids, with their family and version. */
  saes(ids: readonly string[]): Promise<SaeGeometry[]> {
    return this.repo.saes(ids);
  }

  /**
   * Post-ingest step: precompute neighbour lists when affordable. Resumable: restart drops
   * the stored lists (the decoders changed); otherwise only features without one are built.
   */
  async buildNeighbourListsStep(saeId: string, run: NeighbourStepRun): Promise<void> {
    if (run.restart) this.cache.invalidate(saeId);
    const [sae] = await this.repo.saes([saeId]);
    if (!sae) return;
    // Above the cut-off the exhaustive build is quadratic; an IVF partition gives the candidates.
    const ivf = sae.dSae * sae.dSae * sae.dIn > NEIGHBOUR_LIST_MAX_WORK ? {} : null;
    const r = await this.nearest.buildNeighbourLists(saeId, {
      ivf,
      restart: run.restart,
      blockRows: 1024,
      signal: run.signal,
      onProgress: async (done, total) => {
        await run.progress(done, total);
        this.log.debug(`SAE ${saeId}: neighbour lists ${done}/${total}`);
      },
    });
    this.log.info(`SAE ${saeId}: stored top-${r.k} neighbours of ${r.built} features (${r.features} in all${ivf ? ", IVF candidates" : ""}) in ${r.seconds.toFixed(1)} s`);
  }

  /** Post-ingest step: rebuild the split lineage of the SAE's family (which ingest marked stale). */
  async rebuildLineage(saeId: string): Promise<void> {
    const [sae] = await this.repo.saes([saeId]);
    if (!sae?.familyId) return;
    const r = await this.lineage.build(sae.familyId);
    this.log.info(`family ${sae.familyId}: split lineage of ${r.saes.length} sizes rebuilt in ${r.seconds.toFixed(1)} s`);
  }

  /** Post-merge step when only examples changed: the lineage's co-activation signal follows them. */
  async onExamplesChanged(saeId: string): Promise<void> {
    const [sae] = await this.repo.saes([saeId]);
    if (sae?.familyId) await this.lineage.refreshCoactivation(sae.familyId, saeId);
  }

  async close(): Promise<void> {
    this.cache.clear();
    await this.closeKernel();
  }
}
