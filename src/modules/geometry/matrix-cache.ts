// In-process cache of decoder matrices, keyed by SAE id and checked against the SAE's version
// (updated_at + content hash) on every use, so a re-ingested SAE is reloaded rather than served
// stale. Loads are single-flight; least recently used matrices are dropped past a byte budget.
import { totalmem } from "node:os";
import type { NativeScan } from "../../kernel/native-scan.ts";
import { buildDecoderMatrix, type DecoderMatrix } from "./decoder-matrix.ts";
import type { GeometryRepository, SaeGeometry } from "./geometry.repository.ts";

interface Entry {
  version: string;
  matrix: Promise<DecoderMatrix>;
  bytes: number;
  lastUsed: number;
}

export class MatrixCache {
  private readonly entries = new Map<string, Entry>();
  private clock = 0;

  constructor(
    private readonly repo: GeometryRepository,
    /** The native 4-bit scan the matrices pack rows for (null: int8 scans only). */
    readonly native: NativeScan | null = null,
    /** Default: a third of the machine's memory. */
    private readonly budgetBytes = Math.floor(totalmem() / 3),
  ) {}

  async get(sae: SaeGeometry): Promise<DecoderMatrix> {
    const hit = this.entries.get(sae.id);
    if (hit && hit.version === sae.version) {
      hit.lastUsed = ++this.clock;
      return hit.matrix;
    }
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
    let total = 0;
    for (const e of this.entries.values()) total += e.bytes;
    const byAge = [...this.entries.entries()].filter(([id]) => id !== keep).sort((a, b) => a[1].lastUsed - b[1].lastUsed);
    for (const [id, e] of byAge) {
      if (total <= this.budgetBytes) break;
      this.entries.delete(id);
      total -= e.bytes;
    }
  }
}
