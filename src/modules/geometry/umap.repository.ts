// SQL for the stored 2-D maps (feature.umap_x / umap_y).
import type { Database } from "../../db/database.ts";
import { CountRow, onlyRow } from "../../db/rows.ts";

export class UmapRepository {
  constructor(private readonly db: Database) {}

  /** Writes the map of an SAE in one statement; features not listed lose any old position. */
  async write(saeId: string, indices: Int32Array, xy: Float32Array): Promise<void> {
    const xs = Array.from({ length: indices.length }, (_, i) => xy[2 * i]!);
    const ys = Array.from({ length: indices.length }, (_, i) => xy[2 * i + 1]!);
    await this.db.prisma.$transaction([
      this.db.prisma.$executeRaw`/* umap.clear */
        UPDATE feature SET umap_x = NULL, umap_y = NULL WHERE sae_id = ${saeId} AND umap_x IS NOT NULL`,
      this.db.prisma.$executeRaw`/* umap.write */
        UPDATE feature f SET umap_x = u.x, umap_y = u.y
        FROM unnest(${Array.from(indices)}::int[], ${xs}::real[], ${ys}::real[]) AS u(idx, x, y)
        WHERE f.sae_id = ${saeId} AND f.idx = u.idx`,
    ]);
  }

  /** Features with a decoder but no stored position. */
  async countUnmapped(saeId: string): Promise<number> {
    const rows = await this.db.prisma.$queryRaw`/* umap.countUnmapped */
      SELECT count(*)::int AS n FROM feature WHERE sae_id = ${saeId} AND decoder IS NOT NULL AND umap_x IS NULL`;
    return onlyRow(CountRow, rows).n;
  }
}
