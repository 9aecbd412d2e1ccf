// SQL for decoder-neuron alignment (feature.neuron_index / neuron_cosine).
import type { Database } from "../../db/database.ts";
import { CountRow, onlyRow } from "../../db/rows.ts";

export class AlignmentRepository {
  constructor(private readonly db: Database) {}

  /** Features that have a decoder but no alignment yet. */
  async countMissing(saeId: string): Promise<number> {
    const rows = await this.db.prisma.$queryRaw`/* alignment.countMissing */
      SELECT count(*)::int AS n FROM feature WHERE sae_id = ${saeId} AND decoder IS NOT NULL AND neuron_index IS NULL`;
    return onlyRow(CountRow, rows).n;
  }

  /**
   * Fills the alignment of those features inside the database (no decoder leaves it): the
   * component with the largest magnitude (lowest index on ties) and its cosine, i.e. the
   * component over the row's norm.
   */
  async fillMissing(saeId: string): Promise<number> {
    return this.db.prisma.$executeRaw`/* alignment.fillMissing */
      UPDATE feature f SET neuron_index = a.i, neuron_cosine = a.c
      FROM (
        SELECT g.idx, best.i, best.c
        FROM feature g
        CROSS JOIN LATERAL (
          SELECT (u.ord - 1)::int AS i, (u.v / nullif(sqrt(sum(u.v::float8 * u.v) OVER ()), 0))::real AS c
          FROM unnest(g.decoder::vector::real[]) WITH ORDINALITY AS u(v, ord)
          ORDER BY abs(u.v) DESC, u.ord
          LIMIT 1
        ) best
        WHERE g.sae_id = ${saeId} AND g.decoder IS NOT NULL AND g.neuron_index IS NULL
      ) a
      WHERE f.sae_id = ${saeId} AND f.idx = a.idx AND a.c IS NOT NULL`;
  }
}
