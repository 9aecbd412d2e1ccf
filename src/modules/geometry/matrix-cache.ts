// In-process cache of decoder matrices, keyed by SAE id and checked against the SAE's version
// (updated_at + content hash) on every use, so a re-ingested SAE is reloaded rather than served
// stale. Loads are single-flight; least recently used matrices are dropped past a byte budget
// (MONOSCOPE_MATRIX_CACHE_BYTES), and an SAE whose matrices alone could exceed it is refused
// before anything is loaded. A matrix grows when its int8 or 4-bit codes are first built; the
// cache counts what each holds now and drops others on the next get.
import { totalmem } from "node:os";
import { AppError, ErrorCode } from "../../errors.ts";
import { type NativeScan, packedBytes } from "../../kernel/native-scan.ts";
import { baseBytesPerRow, type DecoderMatrix, int8BytesPerRow, loadDecoderMatrix } from "./decoder-matrix.ts";
import type { GeometryRepository, SaeGeometry } from "./geometry.repository.ts";

interface Entry {
  version: string;
  matrix: Promise<DecoderMatrix>;
  /** Set once loaded (its bytes grow as codes are built). */
  loaded: DecoderMatrix | null;
  lastUsed: number;
}

/**
 * The most the cache holds per feature (decoder-matrix.ts), once every code is built: the stored
 * float16 row (2·d) with its float32 1/‖row‖ (4), the row's feature index (4) and the index's row
 * (4); the int8 codes (d) with their scale and rounding error (8), built on first use; and where
 * the native scan is built the 4-bit rows and their residual code (136 B per 128 dimensions + 8).
 * No float32 copy of the rows: d_in 2304 takes 9,388 B (9.8 GB, 9.2 GiB for 2^20 features), of
 * which 4,620 B are held from the load on.
 */
export function matrixBytesPerFeature(d: number, native: boolean): number {
  return baseBytesPerRow(d) + int8BytesPerRow(d) + (native ? packedBytes(1, d) : 0);
}

/**
 * The default budget: 60% of the machine's memory (14.4 GiB of 24 GiB), which admits one
 * 1M × 2304 SAE (9.2 GiB with every code built) on a 24 GiB machine and leaves the rest to Node,
 * the COPY buffer of a load in progress (4.5 GiB at that size) and the operating system.
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
    for (const e of this.entries.values()) total += e.loaded?.bytes ?? 0;
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
      // Codes built since the last get may have grown the cache past its budget.
      if (hit.loaded) this.evict(sae.id);
      return hit.matrix;
    }
    // Every feature counted as alive: an upper bound, so nothing is loaded that could not stay.
    const per = matrixBytesPerFeature(sae.dIn, this.native !== null);
    const need = sae.dSae * per;
    if (need > this.budgetBytes) {
      throw new AppError(
        ErrorCode.BAD_USER_INPUT,
        `SAE "${sae.id}" needs up to ${gib(need)} for its decoder matrices (${sae.dSae.toLocaleString("en-US")} features × d_in ${sae.dIn} at ${per.toLocaleString("en-US")} B each: float16 rows and their codes), ` +
          `more than this server's matrix cache budget of ${gib(this.budgetBytes)} (MONOSCOPE_MATRIX_CACHE_BYTES): raise the budget or serve it from a machine with more memory`,
      );
    }
    this.loads++;
    const entry: Entry = { version: sae.version, matrix: this.load(sae), loaded: null, lastUsed: ++this.clock };
    this.entries.set(sae.id, entry);
    try {
      const m = await entry.matrix;
      entry.loaded = m;
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
    return loadDecoderMatrix((id, onChunk) => this.repo.copyDecoders(id, onChunk), sae, this.native);
  }

  private evict(keep: string): void {
    let total = this.bytes;
    const byAge = [...this.entries.entries()].filter(([id]) => id !== keep).sort((a, b) => a[1].lastUsed - b[1].lastUsed);
    for (const [id, e] of byAge) {
      if (total <= this.budgetBytes) break;
      this.entries.delete(id);
      total -= e.loaded?.bytes ?? 0;
    }
  }
}
