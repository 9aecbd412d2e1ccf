// Builds and stores an SAE's 2-D map (Feature.umap): unit decoder directions (the geometry
// module's binary-COPY loader), an exact cosine kNN graph from the matrix kernel, then umap-js
// with a seeded RNG. Runs after ingest for SAEs up to AUTO_MAP_MAX_FEATURES; larger ones are
// mapped on request (`monoscope map --sae <id>`), since umap-js's optimisation is JavaScript.
import { notFound } from "../../errors.ts";
import type { Kernel } from "../../kernel/index.ts";
import type { NativeScan } from "../../kernel/native-scan.ts";
import type { Logger } from "../../logger.ts";
import { blockRows, decodeRange, type DecoderMatrix, loadDecoderMatrix } from "./decoder-matrix.ts";
import { topKBlocks } from "./nearest-scan.ts";
import type { GeometryRepository } from "./geometry.repository.ts";
import { type KnnGraph, umapLayout, type UmapParams } from "./umap-layout.ts";
import type { UmapRepository } from "./umap.repository.ts";

export const AUTO_MAP_MAX_FEATURES = 20_000;
const QUERY_BLOCK = 2048;

export interface UmapResult {
  saeId: string;
  /** Features placed (those with a decoder). */
  features: number;
  seconds: number;
}

export class UmapService {
  constructor(
    private readonly repo: UmapRepository,
    private readonly geometry: GeometryRepository,
    private readonly kernel: () => Promise<Kernel>,
    private readonly log: Logger,
    /** Decodes the float16 rows natively where loaded (the kNN decodes the matrix once per query block). */
    private readonly native: NativeScan | null = null,
  ) {}

  /** Computes and stores the map of one SAE. */
  async build(saeId: string, params: UmapParams = {}, onProgress?: (line: string) => void): Promise<UmapResult> {
    const t0 = performance.now();
    const [sae] = await this.geometry.saes([saeId]);
    if (!sae) throw notFound(`SAE ${JSON.stringify(saeId)} not found`);
    const m = await loadDecoderMatrix((id, onChunk) => this.geometry.copyDecoders(id, onChunk), sae, this.native);
    // The matrix holds only the rows that have a decoder; m.index maps row -> feature index.
    const present = m.index;
    const n = present.length;
    if (n < 4) {
      await this.repo.write(saeId, new Int32Array(0), new Float32Array(0));
      this.log.info(`SAE ${saeId}: ${n} features with a decoder, too few for a map`);
      return { saeId, features: 0, seconds: (performance.now() - t0) / 1000 };
    }
    const k = Math.min(params.nNeighbors ?? 15, n - 1);
    const graph = await this.knn(m, k);
    onProgress?.(`SAE ${saeId}: kNN graph of ${n} features in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const xy = await umapLayout(graph, { ...params, nNeighbors: k }, (e, total) => {
      if (e % 50 === 0 || e === total) onProgress?.(`SAE ${saeId}: layout epoch ${e}/${total}`);
    });
    await this.repo.write(saeId, present, xy);
    const seconds = (performance.now() - t0) / 1000;
    this.log.info(`SAE ${saeId}: stored a 2-D map of ${n} features in ${seconds.toFixed(1)} s`);
    return { saeId, features: n, seconds };
  }

  /** Features with a decoder but no position yet (0 when the map is complete). */
  unmapped(saeId: string): Promise<number> {
    return this.repo.countUnmapped(saeId);
  }

  /** Post-ingest step: map SAEs small enough to do it in passing. */
  async onSaeReady(saeId: string): Promise<void> {
    const [sae] = await this.geometry.saes([saeId]);
    if (!sae) return;
    if (sae.dSae > AUTO_MAP_MAX_FEATURES) {
      // An SAE imported without decoders (e.g. a dashboard batch) has nothing to map.
      if (!(await this.repo.hasDecoders(saeId))) return;
      this.log.info(
        `SAE ${saeId}: ${sae.dSae} features, more than ${AUTO_MAP_MAX_FEATURES} to map after ingest; run \`monoscope map --sae ${saeId}\` to compute its 2-D map`,
      );
      return;
    }
    await this.build(saeId);
  }

  /** Exact cosine kNN of unit rows, each row itself first (UMAP's convention). */
  private async knn(m: DecoderMatrix, k: number): Promise<KnnGraph> {
    const kernel = await this.kernel();
    const { rows: n, d } = m;
    const qBuf = new Float32Array(Math.min(QUERY_BLOCK, n) * d);
    const mBuf = new Float32Array(Math.min(blockRows(d), n) * d);
    const indices = new Int32Array(n * k);
    const distances = new Float32Array(n * k);
    const fetch = Math.min(n, k + 1);
    for (let q0 = 0; q0 < n; q0 += QUERY_BLOCK) {
      const rows = Math.min(QUERY_BLOCK, n - q0);
      const r = await topKBlocks(kernel, m, decodeRange(m, q0, rows, qBuf).subarray(0, rows * d), rows, fetch, mBuf);
      const got = r.per;
      for (let c = 0; c < rows; c++) {
        const self = q0 + c;
        const base = self * k;
        indices[base] = self;
        distances[base] = 0;
        let t = 1;
        for (let j = 0; j < got && t < k; j++) {
          const idx = r.indices[c * got + j]!;
          if (idx === self || idx < 0) continue;
          indices[base + t] = idx;
          distances[base + t] = Math.max(0, 1 - r.values[c * got + j]!);
          t++;
        }
      }
    }
    return { n, k, indices, distances };
  }
}
