// SQL for concept search's documents: one row per (feature, label) with a weighted
// tsvector (label 'A', activating tokens and contexts 'B') and trigram terms, rebuilt per
// SAE; lexical ranking and context snippets. Every query joins sae so only 'ready' SAEs
// are visible. The shared filters (saeScope, labelScore) live here too.
import { featureKey } from "../../shared/feature-key.ts";
import { z } from "zod";
import type { Database } from "../../db/database.ts";
import { CountRow, IdRow, onlyRow } from "../../db/rows.ts";
import { Prisma } from "../../generated/prisma/client.ts";

export interface SearchScope {
  saeIds?: readonly string[] | null;
  familyId?: string | null;
  modelId?: string | null;
  /** Only labels whose score (as labels are ranked: balanced accuracy, else correlation) is at least this. */
  minScore?: number | null;
  /** Only labels made by this method (e.g. "token-pattern/v1"). */
  labelMethod?: string | null;
}

export interface LexicalHit {
  saeId: string;
  index: number;
  score: number;
  label: string;
  /** The label itself matched (else the activating text did). */
  labelMatched: boolean;
}

/** Tunables of the lexical ranking (see search.service.ts for why these values). */
export interface LexicalParams {
  /** Weight of trigram word similarity next to the full-text rank. */
  trigramWeight: number;
  /** ts_rank_cd normalisation flags (1 = divide by 1 + log(document length)). */
  rankNormalization: number;
}

const LexicalRow = z.object({
  saeId: z.string(),
  index: z.number().int(),
  score: z.number(),
  label: z.string(),
  labelMatched: z.boolean(),
});
const SnippetRow = z.object({ saeId: z.string(), index: z.number().int(), snippet: z.string() });
const IndexStatusRow = z.object({ labels: z.number().int(), labelledDocuments: z.number().int(), vectors: z.number().int() });
/**
 * A label's score, as the explanation module ranks labels (Feature.label): mean balanced
 * accuracy over detection and fuzzing, else mean simulation correlation; null if unscored.
 */
export const labelScore = (e: Prisma.Sql) => Prisma.sql`(
  SELECT coalesce(avg(sc.value) FILTER (WHERE sc.metric = 'balanced_accuracy'),
                  avg(sc.value) FILTER (WHERE sc.metric = 'correlation'))::float8
  FROM explanation_score sc WHERE sc.explanation_id = ${e}.id)`;

/** The query as an OR of its stemmed words: more matched words rank higher, one is enough. */
const orQuery = (text: string) => Prisma.sql`replace(plainto_tsquery('english', ${text})::text, '&', '|')::tsquery`;

/** SAE visibility and model / family / SAE filters, for a table aliased `s` (sae). */
export function saeScope(scope: SearchScope): Prisma.Sql {
  const parts: Prisma.Sql[] = [Prisma.sql`s.status = 'ready'`];
  if (scope.saeIds?.length) parts.push(Prisma.sql`s.id = ANY(${[...scope.saeIds]}::text[])`);
  if (scope.familyId) parts.push(Prisma.sql`s.family_id = ${scope.familyId}`);
  if (scope.modelId) parts.push(Prisma.sql`s.model_id = ${scope.modelId}`);
  return Prisma.join(parts, " AND ");
}

/** Label filters on a search_document row `d`. */
function documentLabelScope(scope: SearchScope): Prisma.Sql {
  const parts: Prisma.Sql[] = [];
  if (scope.labelMethod) parts.push(Prisma.sql`AND d.label_method = ${scope.labelMethod}`);
  if (scope.minScore !== null && scope.minScore !== undefined) parts.push(Prisma.sql`AND d.label_score >= ${scope.minScore}`);
  return parts.length ? Prisma.join(parts, " ") : Prisma.empty;
}

const REBUILD_TIMEOUT_MS = 30 * 60_000;
/** Top activating contexts per search document, and keywords drawn from them. */
const CONTEXTS_PER_DOCUMENT = 30;
const KEYWORDS_PER_DOCUMENT = 12;
/** Queries of at most this many words always look for trigram (typo-tolerant) matches. */
const SHORT_QUERY_WORDS = 2;

export class SearchDocumentsRepository {
  constructor(private readonly db: Database) {}

  /**
   * Rebuilds one SAE's search documents (or only those of the features in `indices`) from
   * their labels and top activations, in one transaction (readers see the old or the new set,
   * never a mix). Returns the row count.
   */
  async refreshDocuments(saeId: string, indices?: readonly number[]): Promise<number> {
    const only = (col: Prisma.Sql) => (indices ? Prisma.sql`AND ${col} = ANY(${[...indices]}::int[])` : Prisma.empty);
    const [, inserted] = await this.db.prisma.$transaction([
      this.db.prisma.$executeRaw`/* search.deleteDocuments */ DELETE FROM search_document WHERE sae_id = ${saeId} ${only(Prisma.sql`feature_idx`)}`,
      // Per feature through the activation primary key (sae_id, feature_idx, ...): the plan
      // stays linear even right after a bulk load, before statistics exist to pick joins by.
      this.db.prisma.$executeRaw`
        /* search.insertDocuments */
        INSERT INTO search_document (sae_id, feature_idx, explanation_id, label, label_method, label_score, keywords, contexts)
        SELECT f.sae_id, f.idx, e.id, coalesce(e.text, ''), e.method, ${labelScore(Prisma.sql`e`)},
               coalesce(d.keywords, ''), coalesce(d.contexts, '')
        FROM feature f
        CROSS JOIN LATERAL (
          SELECT
            -- Tokens that fire at >= half their context's peak, weighted by how strongly:
            -- what the feature responds to, not merely what its contexts often contain.
            (SELECT string_agg(k.tok, ' ' ORDER BY k.w DESC, k.tok)
             FROM (
               SELECT t.tok, sum(t.w) AS w
               FROM (
                 SELECT lower(btrim(regexp_replace(u.tok, '^[Ġ▁Ċ]+', ''))) AS tok, u.v / a.max_value AS w
                 FROM (
                   SELECT a.tokens, a."values", a.max_value FROM activation a
                   WHERE a.sae_id = f.sae_id AND a.feature_idx = f.idx AND a.kind = 'top' AND a.max_value > 0
                   ORDER BY a.ordinal LIMIT ${CONTEXTS_PER_DOCUMENT}
                 ) a CROSS JOIN LATERAL unnest(a.tokens, a."values") AS u(tok, v)
                 WHERE u.v >= 0.5 * a.max_value
               ) t
               WHERE t.tok ~ '[[:alnum:]]'
               GROUP BY t.tok ORDER BY sum(t.w) DESC, t.tok LIMIT ${KEYWORDS_PER_DOCUMENT}
             ) k) AS keywords,
            (SELECT string_agg(c.text, E'\n' ORDER BY c.ordinal)
             FROM (
               SELECT a.text, a.ordinal FROM activation a
               WHERE a.sae_id = f.sae_id AND a.feature_idx = f.idx AND a.kind = 'top'
               ORDER BY a.ordinal LIMIT ${CONTEXTS_PER_DOCUMENT}
             ) c) AS contexts
        ) d
        LEFT JOIN explanation e ON e.sae_id = f.sae_id AND e.feature_idx = f.idx
        WHERE f.sae_id = ${saeId} ${only(Prisma.sql`f.idx`)} AND (e.id IS NOT NULL OR d.contexts IS NOT NULL)`,
      // Large SAEs take minutes (the tsvectors are built here), well past Prisma's 5 s default.
    ], { timeout: REBUILD_TIMEOUT_MS, maxWait: REBUILD_TIMEOUT_MS });
    return inserted;
  }

  /** How much of one SAE concept search covers: labels, labelled documents, and label vectors of one embedder. */
  async indexStatus(saeId: string, embedder: string): Promise<{ labels: number; labelledDocuments: number; vectors: number }> {
    const rows = await this.db.sql`
      /* search.indexStatus */
      SELECT (SELECT count(*) FROM explanation WHERE sae_id = ${saeId})::int AS labels,
             (SELECT count(*) FROM search_document WHERE sae_id = ${saeId} AND explanation_id IS NOT NULL)::int AS "labelledDocuments",
             (SELECT count(*) FROM explanation_embedding ee JOIN explanation e ON e.id = ee.explanation_id
              WHERE e.sae_id = ${saeId} AND ee.embedder = ${embedder})::int AS vectors`;
    return onlyRow(IndexStatusRow, rows);
  }

  async documentCount(saeId: string): Promise<number> {
    const rows = await this.db.sql`
      /* search.documentCount */ SELECT count(*)::int AS n FROM search_document WHERE sae_id = ${saeId}`;
    return onlyRow(CountRow, rows).n;
  }

  /**
   * Full text (label 'A' above activating text 'B') plus trigram similarity, best document
   * per feature. Candidates match a query word (GIN on the tsvector) or resemble the query
   * (GIN trigrams on label + keywords). Word similarity costs more than the full-text rank,
   * so it is added only for the best `rerank` full-text candidates and the trigram matches:
   * on the demo evaluation set that ranks exactly as scoring every candidate.
   */
  async lexical(text: string, scope: SearchScope, limit: number, params: LexicalParams): Promise<LexicalHit[]> {
    const rerank = Math.max(4 * limit, 200);
    const shortQuery = text.trim().split(/\s+/).length <= SHORT_QUERY_WORDS;
    return this.db.rows(LexicalRow)`
      /* search.lexical */
      WITH q AS (SELECT ${orQuery(text)} AS tsq),
      fts AS (
        SELECT d.id, ts_rank_cd(d.document, q.tsq, ${params.rankNormalization}::int) AS fts
        FROM search_document d CROSS JOIN q JOIN sae s ON s.id = d.sae_id
        WHERE d.document @@ q.tsq AND ${saeScope(scope)} ${documentLabelScope(scope)}
      ),
      -- Trigram matches only where words alone may miss: short queries (a typo in one of
      -- two words matters) or too few word matches. Scanning trigrams is the costly part.
      trg AS (
        SELECT d.id FROM search_document d JOIN sae s ON s.id = d.sae_id
        WHERE (${shortQuery} OR (SELECT count(*) FROM fts) < ${limit})
          AND ${text} <% d.terms AND ${saeScope(scope)} ${documentLabelScope(scope)}
      ),
      cand AS (
        SELECT id FROM (SELECT id FROM fts ORDER BY fts DESC, id LIMIT ${rerank}) t
        UNION
        SELECT id FROM trg
      ),
      best AS (
        SELECT DISTINCT ON (d.sae_id, d.feature_idx) d.id, d.sae_id, d.feature_idx, d.label,
               (coalesce(f.fts, 0) + ${params.trigramWeight}::float8 * word_similarity(${text}, d.terms))::float8 AS score
        FROM cand c JOIN search_document d ON d.id = c.id LEFT JOIN fts f ON f.id = c.id
        ORDER BY d.sae_id, d.feature_idx, score DESC, d.id
      ),
      top AS (SELECT * FROM best ORDER BY score DESC, sae_id, feature_idx LIMIT ${limit})
      SELECT t.sae_id AS "saeId", t.feature_idx AS "index", t.score, t.label,
             (ts_rank('{0,0,0,1}', d.document, q.tsq) > 0 OR (t.label <> '' AND word_similarity(${text}, t.label) >= 0.6)) AS "labelMatched"
      FROM top t JOIN search_document d ON d.id = t.id CROSS JOIN q
      ORDER BY t.score DESC, t.sae_id, t.feature_idx`;
  }

  /** The activating context of each feature that best matches the query, trimmed around the match. */
  async snippets(text: string, keys: readonly { saeId: string; index: number }[]): Promise<Map<string, string>> {
    if (keys.length === 0) return new Map();
    // Per feature through the activation primary key: a handful of contexts each, never a scan.
    const rows = await this.db.rows(SnippetRow)`
      /* search.snippets */
      WITH q AS (SELECT ${orQuery(text)} AS tsq)
      SELECT k.sae_id AS "saeId", k.idx AS "index",
             ts_headline('english', b.text, q.tsq, 'MaxWords=30, MinWords=15, StartSel="", StopSel=""') AS snippet
      FROM unnest(${keys.map((k) => k.saeId)}::text[], ${keys.map((k) => k.index)}::int[]) AS k(sae_id, idx)
      CROSS JOIN q
      CROSS JOIN LATERAL (
        SELECT a.text FROM activation a
        WHERE a.sae_id = k.sae_id AND a.feature_idx = k.idx AND a.kind = 'top'
        ORDER BY ts_rank(to_tsvector('english', a.text), q.tsq) DESC, word_similarity(${text}, a.text) DESC, a.ordinal
        LIMIT 1
      ) b`;
    const out = new Map<string, string>();
    for (const s of rows) out.set(featureKey(s), s.snippet.trim());
    return out;
  }

  /** Ready SAE ids in scope (for refreshing everything at once). */
  async readySaeIds(): Promise<string[]> {
    const rows = await this.db.rows(IdRow)`
      /* search.readySaeIds */ SELECT id FROM sae WHERE status = 'ready' ORDER BY id`;
    return rows.map((r) => r.id);
  }

}
