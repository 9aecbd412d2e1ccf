// In-process cache of decoder matrices, keyed by SAE id and checked against the SAE's version
// (updated_at + content hash) on every use, so a re-ingested SAE is reloaded rather than served
// stale. Loads are single-flight; least recently used matrices are dropped past a byte budget
// (MONOSCOPE_MATRIX_CACHE_BYTES), and an SAE whose matrices alone exceed it is refused before
// anything is loaded.
import { totalmem } from "node:os";
import { AppError, ErrorCode } from "../../errors.ts";
import { type NativeScan, packedBytes } from "../../kernel/native-scan.ts";
import { buildDecoderMatrix, type DecoderMatrix } from "./decoder-matrix.ts";
import type { GeometryRepository, SaeGeometry } from "./geometry.repository.ts";

interface Entry {
  version: string;
  matrix: Promise<DecoderMatrix>;
  bytes: number;
  lastUsed: number;
}

/**
 * What the cache holds per feature (decoder-matrix.ts): float32 unit row (4·d), int8 codes (d)
 * with their float32 scale (4) and rounding error (4), the row's feature index (4) and the index's row (4), plus the
 * 4-bit rows where the native scan is built (68 bytes per 128 dimensions). d_in 2304: 12,764 B.
 */
export function matrixBytesPerFeature(d: number, native: boolean): number {
  // float32 row, int8 codes, then per row: scale, rounding error, index and row-of entries.
  return 4 * d + d + 4 + 4 + 4 + 4 + (native ? packedBytes(1, d) : 0);
}

/**
 * The default budget: 60% of the machine's memory, which admits one 1M × 2304 SAE (13.4 GB,
 * 12.5 GiB, with 4-bit rows) on a 24 GiB machine and leaves the rest to Node, the COPY buffer
 * of a load in progress and the operating system. A third (the earlier default) would not.
 */
export const defaultMatrixCacheBytes = (total: number = totalmem()): number => Math.floor(total * 0.6);

const gib = (b: number) => `${(b / 2 ** 30).toFixed(b < 2 ** 30 ? 3 : 1)} GiB`;

export class MatrixCache {
  private readonly entries = new Map<string, Entry>();
  private clock = 0;
  /** Matrices loaded from the database since start (a miss each; /metrics). */
  loads = 0;

  constructor(
    private readonly repo: GeometryRepository,
    /** The native 4-bit scan the matrices pack rows for (null: int8 scans only). */
    readonly native: NativeScan | null = null,
    /** MONOSCOPE_MATRIX_CACHE_BYTES; default: defaultMatrixCacheBytes(). */
    readonly budgetBytes: number = defaultMatrixCacheBytes(),
  ) {}

  /** Bytes held by loaded matrices now. */
  get bytes(): number {
    let total = 0;
    for (const e of this.entries.values()) total += e.bytes;
    return total;
  }

  /** Matrices held now. */
  get size(): number {
    return this.entries.size;
  }

  async get(sae: SaeGeometry): Promise<DecoderMatrix> {
    const hit = this.entries.get(sae.id);
    if (hit && hit.version === sae.version) {
      hit.lastUsed = ++this.clock;
      return hit.matrix;
    }
    // Every feature counted as alive: an upper bound, so nothing is loaded that could not stay.
    const per = matrixBytesPerFeature(sae.dIn, this.native !== null);
    const need = sae.dSae * per;
    if (need > this.budgetBytes) {
      throw new AppError(
        ErrorCode.BAD_USER_INPUT,
        `SAE "${sae.id}" needs up to ${gib(need)} for its decoder matrices (${sae.dSae.toLocaleString("en-US")} features × d_in ${sae.dIn} at ${per.toLocaleString("en-US")} B each), ` +
          `more than this server's matrix cache budget of ${gib(this.budgetBytes)} (MONOSCOPE_MATRIX_CACHE_BYTES): raise the budget or serve it from a machine with more memory`,
      );
    }
    this.loads++;
    const entry: Entry = { version: sae.version, matrix: this.load(sae), bytes: 0, lastUsed: ++this.clock };
    this.entries.set(sae.id, entry);
    try {
      const m = await entry.matrix;
      entry.bytes = m.bytes;
      this.evict(sae.id);
      return m;
    } catch (e) {
      if (this.entries.get(sae.id) === entry) this.entries.delete(sae.id);
      throw e;
    }
  }

  /** Drops a cached matrix (the ingest hook calls this when an SAE changes). */
  invalidate(saeId: string): void {
    this.entries.delete(saeId);
  }

  clear(): void {
    this.entries.clear();
  }

  private async load(sae: SaeGeometry): Promise<DecoderMatrix> {
    const copy = await this.repo.copyDecoders(sae.id);
    return buildDecoderMatrix(sae.id, sae.version, sae.dSae, sae.dIn, copy, this.native);
  }

  private evict(keep: string): void {
    let total = this.bytes;
    const byAge = [...this.entries.entries()].filter(([id]) => id !== keep).sort((a, b) => a[1].lastUsed - b[1].lastUsed);
    for (const [id, e] of byAge) {
      if (total <= this.budgetBytes) break;
      this.entries.delete(id);
      total -= e.bytes;
    }
  }
}
