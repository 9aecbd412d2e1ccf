// SQL for concept search's label vectors: nearest labels of one embedder (exact scan or
// its partial HNSW index), writing vectors, and the stored embedder transforms.
import { z } from "zod";
import type { Database } from "../../db/database.ts";
import { dropEmbeddingIndexStatement, embeddingIndexStatement, runDdl, vectorTypeSql } from "../../db/ddl.ts";
import { CountRow, firstRow, onlyRow } from "../../db/rows.ts";
import { toVectorLiteral } from "../../db/vector.ts";
import { Prisma } from "../../generated/prisma/client.ts";
import { labelScore, saeScope, type SearchScope } from "./search-documents.repository.ts";

export interface SemanticHit {
  saeId: string;
  index: number;
  explanationId: string;
  score: number;
  label: string;
}

const SemanticRow = z.object({
  saeId: z.string(),
  index: z.number().int(),
  explanationId: z.string(),
  score: z.number(),
  label: z.string(),
});
const EmbedderRow = z.object({ id: z.string(), kind: z.string(), dim: z.number().int(), params: z.unknown() });
export type EmbedderRow = z.infer<typeof EmbedderRow>;
const LabelRow = z.object({ id: z.string(), text: z.string() });
// semanticIndexed returns one row even when no hit survives the filters (hit columns NULL).
const IndexedRow = z
  .object({ fetched: z.number().int(), saeId: z.string().nullable() })
  .loose()
  .transform((r) => ({ fetched: r.fetched, hit: r.saeId === null ? null : SemanticRow.parse(r) }));

/** Label filters on an explanation row `e`. */
function explanationLabelScope(scope: SearchScope): Prisma.Sql {
  const parts: Prisma.Sql[] = [];
  if (scope.labelMethod) parts.push(Prisma.sql`AND e.method = ${scope.labelMethod}`);
  if (scope.minScore !== null && scope.minScore !== undefined) parts.push(Prisma.sql`AND ${labelScore(Prisma.sql`e`)} >= ${scope.minScore}`);
  return parts.length ? Prisma.join(parts, " ") : Prisma.empty;
}

const REBUILD_TIMEOUT_MS = 30 * 60_000;

export class LabelVectorsRepository {
  constructor(private readonly db: Database) {}

  /** Labels nearest the query vector among one embedder's vectors (exact scan), possibly several per feature. */
  async semantic(embedder: string, vector: ArrayLike<number>, scope: SearchScope, limit: number): Promise<SemanticHit[]> {
    const v = toVectorLiteral(vector);
    return this.db.rows(SemanticRow)`
      /* search.semantic */
      SELECT e.sae_id AS "saeId", e.feature_idx AS "index", e.id::text AS "explanationId", e.text AS label,
             (1 - (ee.embedding <=> ${v}::vector))::float8 AS score
      FROM explanation_embedding ee
      JOIN explanation e ON e.id = ee.explanation_id
      JOIN sae s ON s.id = e.sae_id
      WHERE ee.embedder = ${embedder} AND ${saeScope(scope)} ${explanationLabelScope(scope)}
      ORDER BY ee.embedding <=> ${v}::vector, e.id
      LIMIT ${limit}`;
  }

  /**
   * The same ranking through the embedder's partial HNSW index: the index returns the
   * `fetch` nearest vectors (iterative scan, so filters further out cannot starve it),
   * then SAE and label filters apply. `exhausted`: fewer than `fetch` came back, so
   * nothing nearer was left out by the cap.
   */
  async semanticIndexed(
    embedder: string,
    dim: number,
    vector: ArrayLike<number>,
    scope: SearchScope,
    limit: number,
    opts: { fetch: number; efSearch: number },
  ): Promise<{ hits: SemanticHit[]; fetched: number }> {
    const v = toVectorLiteral(vector);
    const T = vectorTypeSql(dim);
    return this.db.sqlTransaction(async (tx) => {
      await tx.sql`
        /* search.hnswSettings */
        SELECT set_config('hnsw.ef_search', ${String(opts.efSearch)}, true), set_config('hnsw.iterative_scan', 'relaxed_order', true)`;
      const rows = await tx.rows(IndexedRow)`
        /* search.semanticIndexed */
        WITH nn AS MATERIALIZED (
          SELECT ee.explanation_id, (ee.embedding::${T} <=> ${v}::${T}) AS dist
          FROM explanation_embedding ee
          WHERE ee.embedder = ${embedder}
          ORDER BY ee.embedding::${T} <=> ${v}::${T}
          LIMIT ${opts.fetch}
        )
        -- One row even when the filters keep nothing, so the caller always learns the count.
        SELECT h.*, c.fetched FROM (SELECT count(*)::int AS fetched FROM nn) c
        LEFT JOIN LATERAL (
          SELECT e.sae_id AS "saeId", e.feature_idx AS "index", e.id::text AS "explanationId", e.text AS label,
                 (1 - nn.dist)::float8 AS score
          FROM nn JOIN explanation e ON e.id = nn.explanation_id JOIN sae s ON s.id = e.sae_id
          WHERE ${saeScope(scope)} ${explanationLabelScope(scope)}
          ORDER BY nn.dist, e.id
          LIMIT ${limit}
        ) h ON true
        ORDER BY h.score DESC NULLS LAST, h."explanationId"`;
      const hits: SemanticHit[] = [];
      for (const r of rows) if (r.hit) hits.push(r.hit);
      return { hits, fetched: rows[0]?.fetched ?? 0 };
    });
  }

  async hasEmbeddingIndex(embedder: string, dim: number): Promise<boolean> {
    const { name } = embeddingIndexStatement(embedder, dim);
    const rows = await this.db.sql`
      /* search.hasEmbeddingIndex */ SELECT 1 FROM pg_class WHERE relname = ${name} AND relkind IN ('i', 'I')`; // 'I': an index on a partitioned table
    return rows.length > 0;
  }

  async createEmbeddingIndex(embedder: string, dim: number): Promise<void> {
    await runDdl(this.db, embeddingIndexStatement(embedder, dim));
  }

  async dropEmbeddingIndex(embedder: string, dim: number): Promise<void> {
    await runDdl(this.db, dropEmbeddingIndexStatement(embedder, dim));
  }

  async hasEmbeddings(embedder: string): Promise<boolean> {
    const rows = await this.db.sql`
      /* search.hasEmbeddings */ SELECT 1 FROM explanation_embedding WHERE embedder = ${embedder} LIMIT 1`;
    return rows.length > 0;
  }

  async embeddingCount(embedder: string): Promise<number> {
    const rows = await this.db.sql`
      /* search.embeddingCount */ SELECT count(*)::int AS n FROM explanation_embedding WHERE embedder = ${embedder}`;
    return onlyRow(CountRow, rows).n;
  }

  /** Labels of one SAE (all, or only those without a vector from this embedder). */
  /** indices: only these features' labels (else all of the SAE's). */
  async labelsToEmbed(saeId: string, embedder: string, onlyMissing: boolean, indices?: readonly number[]): Promise<{ id: string; text: string }[]> {
    return this.db.rows(LabelRow)`
      /* search.labelsToEmbed */
      SELECT e.id::text AS id, e.text FROM explanation e
      WHERE e.sae_id = ${saeId} ${indices ? Prisma.sql`AND e.feature_idx = ANY(${[...indices]}::int[])` : Prisma.empty}
        AND (NOT ${onlyMissing} OR NOT EXISTS (
          SELECT 1 FROM explanation_embedding ee WHERE ee.explanation_id = e.id AND ee.embedder = ${embedder}))
      ORDER BY e.id`;
  }

  async upsertEmbeddings(embedder: string, dim: number, items: readonly { id: string; vector: ArrayLike<number> }[]): Promise<void> {
    for (let i = 0; i < items.length; i += 2000) {
      const batch = items.slice(i, i + 2000);
      await this.db.prisma.$executeRaw`
        /* search.upsertEmbeddings */
        INSERT INTO explanation_embedding (sae_id, explanation_id, embedder, dim, embedding)
        SELECT e.sae_id, e.id, ${embedder}, ${dim}::int, u.v::vector
        FROM unnest(${batch.map((b) => b.id)}::text[], ${batch.map((b) => toVectorLiteral(b.vector))}::text[]) AS u(id, v)
        JOIN explanation e ON e.id = u.id::bigint
        ON CONFLICT (sae_id, explanation_id, embedder)
        DO UPDATE SET dim = EXCLUDED.dim, embedding = EXCLUDED.embedding, created_at = CURRENT_TIMESTAMP`;
    }
  }

  /** Removes one embedder's vectors for labels that no longer embed (no known word). */
  async deleteEmbeddings(embedder: string, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.db.prisma.$executeRaw`
      /* search.deleteEmbeddings */
      DELETE FROM explanation_embedding WHERE embedder = ${embedder} AND explanation_id = ANY(${[...ids]}::text[]::bigint[])`;
  }

  async findEmbedder(id: string): Promise<EmbedderRow | null> {
    const rows = await this.db.sql`
      /* search.findEmbedder */ SELECT id, kind, dim, params FROM search_embedder WHERE id = ${id}`;
    return firstRow(EmbedderRow, rows);
  }

  /** Records an embedder's transform unless one is already stored; returns the stored one. */
  async saveEmbedder(row: EmbedderRow): Promise<EmbedderRow> {
    await this.db.prisma.$executeRaw`
      /* search.saveEmbedder */
      INSERT INTO search_embedder (id, kind, dim, params) VALUES (${row.id}, ${row.kind}, ${row.dim}, ${JSON.stringify(row.params)}::jsonb)
      ON CONFLICT (id) DO NOTHING`;
    const stored = await this.findEmbedder(row.id);
    if (!stored) throw new Error(`embedder ${row.id} was not stored`);
    return stored;
  }

  /** Forgets an embedder's transform and all its vectors (before re-fitting it). */
  async dropEmbedder(id: string): Promise<void> {
    await this.db.prisma.$transaction(
      [
        this.db.prisma.$executeRaw`/* search.dropEmbeddings */ DELETE FROM explanation_embedding WHERE embedder = ${id}`,
        this.db.prisma.$executeRaw`/* search.dropEmbedder */ DELETE FROM search_embedder WHERE id = ${id}`,
      ],
      { timeout: REBUILD_TIMEOUT_MS, maxWait: REBUILD_TIMEOUT_MS },
    );
  }
}
