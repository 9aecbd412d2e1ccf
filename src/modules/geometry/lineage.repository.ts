// SQL for split lineage: the family's SAEs in size order, the stored edges (lineage_edge), the
// node kinds (feature.split_kind / origin_kind) and the family's build state.
import { z } from "zod";
import type { Database } from "../../db/database.ts";
import { firstRow, IdRow, parseRows } from "../../db/rows.ts";
import { Prisma } from "../../generated/prisma/client.ts";
import type { FeatureKey } from "../../shared/feature-key.ts";
import type { OriginKind, SplitKind } from "./lineage-build.ts";

export const FamilyLineageState = z.object({
  id: z.string(),
  lineageStale: z.boolean(),
  lineageBuiltAt: z.date().nullable(),
});
export type FamilyLineageState = z.infer<typeof FamilyLineageState>;

export const EdgeRow = z.object({
  parentSaeId: z.string(),
  parentIdx: z.number().int(),
  childSaeId: z.string(),
  childIdx: z.number().int(),
  cosine: z.number(),
  /** Share of the child's top examples (by text) that are also among the parent's; null without examples. */
  coactivation: z.number().nullable(),
  rank: z.number().int(),
});
export type EdgeRow = z.infer<typeof EdgeRow>;

export const KindRow = z.object({
  saeId: z.string(),
  index: z.number().int(),
  splitKind: z.enum(["STABLE", "SPLIT", "VANISHED", "LARGEST"] satisfies SplitKind[]).nullable(),
  originKind: z.enum(["INHERITED", "NOVEL", "SMALLEST"] satisfies OriginKind[]).nullable(),
  familyId: z.string().nullable(),
  lineageBuiltAt: z.date().nullable(),
});
export type KindRow = z.infer<typeof KindRow>;

/** One SAE pair's edges in column form (what the builder produces). */
export interface EdgeColumns {
  parentSaeId: string;
  childSaeId: string;
  parentIdx: Int32Array;
  childIdx: Int32Array;
  cosine: Float32Array;
  rank: Int32Array;
}

const BATCH = 20_000;

/**
 * The second lineage signal, for a family's edges (those touching saeId when given): of the
 * child's top examples, the share (by text) that are also among the parent's top examples.
 * Edges whose child has no top examples get NULL.
 */
function coactivationSql(familyId: string, saeId: string | null): Prisma.Sql {
  const touching = saeId === null ? Prisma.empty : Prisma.sql`AND (e.parent_sae_id = ${saeId} OR e.child_sae_id = ${saeId})`;
  return Prisma.sql`/* lineage.coactivation */
    UPDATE lineage_edge e SET coactivation = x.shared::real / nullif(x.total, 0)
    FROM (
      SELECT e.parent_sae_id, e.parent_idx, e.child_sae_id, e.child_idx, count(ca.text) AS total,
             count(ca.text) FILTER (WHERE EXISTS (
               SELECT 1 FROM activation pa
               WHERE pa.sae_id = e.parent_sae_id AND pa.feature_idx = e.parent_idx AND pa.kind = 'top' AND pa.text = ca.text
             )) AS shared
      FROM lineage_edge e
      LEFT JOIN activation ca ON ca.sae_id = e.child_sae_id AND ca.feature_idx = e.child_idx AND ca.kind = 'top'
      WHERE e.family_id = ${familyId} ${touching}
      GROUP BY e.parent_sae_id, e.parent_idx, e.child_sae_id, e.child_idx
    ) x
    WHERE e.parent_sae_id = x.parent_sae_id AND e.parent_idx = x.parent_idx AND e.child_sae_id = x.child_sae_id AND e.child_idx = x.child_idx`;
}

export class LineageRepository {
  constructor(private readonly db: Database) {}

  async family(id: string): Promise<FamilyLineageState | null> {
    const rows = await this.db.prisma.$queryRaw`
      /* lineage.family */
      SELECT id, lineage_stale AS "lineageStale", lineage_built_at AS "lineageBuiltAt" FROM sae_family WHERE id = ${id}`;
    return firstRow(FamilyLineageState, rows);
  }

  /** Ready SAE ids of a family, smallest first. */
  async familySaeIds(familyId: string): Promise<string[]> {
    const rows = await this.db.prisma.$queryRaw`
      /* lineage.familySaeIds */
      SELECT id FROM sae WHERE family_id = ${familyId} AND status = 'ready' ORDER BY d_sae, id`;
    return parseRows(IdRow, rows).map((r) => r.id);
  }

  /**
   * Replaces the family's stored lineage in one transaction: edges, node kinds of every SAE in
   * it, and the build state.
   */
  async replaceFamilyLineage(
    familyId: string,
    saeIds: readonly string[],
    edges: readonly EdgeColumns[],
    kinds: ReadonlyArray<{ saeId: string; idx: Int32Array; split: string[]; origin: string[] }>,
    params: Record<string, unknown>,
  ): Promise<void> {
    await this.db.prisma.$transaction(
      async (tx) => {
        await tx.$executeRaw`/* lineage.deleteEdges */ DELETE FROM lineage_edge WHERE family_id = ${familyId}`;
        await tx.$executeRaw`/* lineage.clearKinds */
          UPDATE feature SET split_kind = NULL, origin_kind = NULL WHERE sae_id = ANY(${[...saeIds]}::text[])
            AND (split_kind IS NOT NULL OR origin_kind IS NOT NULL)`;
        for (const e of edges) {
          for (let s = 0; s < e.parentIdx.length; s += BATCH) {
            const end = Math.min(e.parentIdx.length, s + BATCH);
            await tx.$executeRaw`/* lineage.insertEdges */
              INSERT INTO lineage_edge (family_id, parent_sae_id, parent_idx, child_sae_id, child_idx, cosine, rank)
              SELECT ${familyId}, ${e.parentSaeId}, p, ${e.childSaeId}, c, cos, r
              FROM unnest(${Array.from(e.parentIdx.subarray(s, end))}::int[], ${Array.from(e.childIdx.subarray(s, end))}::int[],
                          ${Array.from(e.cosine.subarray(s, end))}::real[], ${Array.from(e.rank.subarray(s, end))}::int[]) AS u(p, c, cos, r)`;
          }
        }
        // The second signal: of the child's top examples, the share (by text) that are also among
        // the parent's top examples. Features without top examples keep NULL.
        // The second signal (see coactivationSql).
        await tx.$executeRaw(coactivationSql(familyId, null));
        for (const k of kinds) {
          for (let s = 0; s < k.idx.length; s += BATCH) {
            const end = Math.min(k.idx.length, s + BATCH);
            await tx.$executeRaw`/* lineage.setKinds */
              UPDATE feature f SET split_kind = u.s, origin_kind = u.o
              FROM unnest(${Array.from(k.idx.subarray(s, end))}::int[], ${k.split.slice(s, end)}::text[], ${k.origin.slice(s, end)}::text[]) AS u(i, s, o)
              WHERE f.sae_id = ${k.saeId} AND f.idx = u.i`;
          }
        }
        await tx.$executeRaw`/* lineage.markBuilt */
          UPDATE sae_family SET lineage_stale = false, lineage_built_at = CURRENT_TIMESTAMP, lineage_params = ${JSON.stringify(params)}::jsonb
          WHERE id = ${familyId}`;
      },
      { timeout: 30 * 60_000, maxWait: 60_000 },
    );
  }

  /** Recomputes co-activation on the family's edges that touch saeId (after its examples changed). */
  async refreshCoactivation(familyId: string, saeId: string): Promise<number> {
    return this.db.prisma.$executeRaw(coactivationSql(familyId, saeId));
  }

  /** Edges whose child is one of the keys (the child's parents), best first. */
  async parentEdges(keys: readonly FeatureKey[]): Promise<EdgeRow[]> {
    return this.db.rows(EdgeRow)`
      /* lineage.parentEdges */
      SELECT e.parent_sae_id AS "parentSaeId", e.parent_idx AS "parentIdx", e.child_sae_id AS "childSaeId",
             e.child_idx AS "childIdx", e.cosine, e.coactivation, e.rank
      FROM unnest(${keys.map((k) => k.saeId)}::text[], ${keys.map((k) => k.index)}::int[]) AS k(sae_id, idx)
      JOIN lineage_edge e ON e.child_sae_id = k.sae_id AND e.child_idx = k.idx
      ORDER BY e.rank`;
  }

  /** Edges whose parent is one of the keys (the parent's children), best first. */
  async childEdges(keys: readonly FeatureKey[]): Promise<EdgeRow[]> {
    return this.db.rows(EdgeRow)`
      /* lineage.childEdges */
      SELECT e.parent_sae_id AS "parentSaeId", e.parent_idx AS "parentIdx", e.child_sae_id AS "childSaeId",
             e.child_idx AS "childIdx", e.cosine, e.coactivation, e.rank
      FROM unnest(${keys.map((k) => k.saeId)}::text[], ${keys.map((k) => k.index)}::int[]) AS k(sae_id, idx)
      JOIN lineage_edge e ON e.parent_sae_id = k.sae_id AND e.parent_idx = k.idx
      ORDER BY e.cosine DESC, e.child_idx`;
  }

  /** Node kinds of features (with their family's build time), for visible SAEs only. */
  async kinds(keys: readonly FeatureKey[]): Promise<KindRow[]> {
    return this.db.rows(KindRow)`
      /* lineage.kinds */
      SELECT f.sae_id AS "saeId", f.idx AS "index", f.split_kind AS "splitKind", f.origin_kind AS "originKind",
             s.family_id AS "familyId", fam.lineage_built_at AS "lineageBuiltAt"
      FROM unnest(${keys.map((k) => k.saeId)}::text[], ${keys.map((k) => k.index)}::int[]) AS k(sae_id, idx)
      JOIN feature f ON f.sae_id = k.sae_id AND f.idx = k.idx
      JOIN sae s ON s.id = f.sae_id AND s.status = 'ready'
      LEFT JOIN sae_family fam ON fam.id = s.family_id`;
  }
}
