// SQL for explanations (labels), their scores and embeddings. Reads are keyed by many
// (sae_id, idx) pairs at once (unnest of two arrays) so DataLoaders batch a whole
// response into one statement. Writes rely on the unique key (sae, feature, method,
// prompt version, explainer model): the same label is never stored (or paid for) twice.
// Imported labels arrive through ExplanationBulkLoad, which ingest runs.
import { z } from "zod";
import type { BulkStatements } from "../../db/bulk.ts";
import type { Database } from "../../db/database.ts";
import { CountRow, firstRow, IdRow, onlyRow, parseRows } from "../../db/rows.ts";
import { toVectorLiteral } from "../../db/vector.ts";
import { Prisma } from "../../generated/prisma/client.ts";
import type { FeatureKey } from "../../shared/feature-key.ts";

export const ExplanationRecord = z.object({
  id: z.string(),
  saeId: z.string(),
  featureIndex: z.number().int(),
  text: z.string(),
  method: z.string(),
  promptVersion: z.string(),
  explainerModel: z.string(),
  inputTokens: z.number().int().nullable(),
  outputTokens: z.number().int().nullable(),
  costUsd: z.number().nullable(),
  jobId: z.string().nullable(),
  createdAt: z.date(),
  /** Mean balanced accuracy of its detection/fuzzing scores, else its simulation correlation; null when unscored. */
  quality: z.number().nullable(),
});
export type ExplanationRecord = z.infer<typeof ExplanationRecord>;

export const ScoreRecord = z.object({
  explanationId: z.string(),
  kind: z.string(),
  metric: z.string(),
  value: z.number(),
  scorerModel: z.string(),
});
export type ScoreRecord = z.infer<typeof ScoreRecord>;

const UnscoredRow = z.object({ id: z.string(), text: z.string(), kind: z.string() });
const UnembeddedRow = z.object({ id: z.string(), featureIndex: z.number().int(), text: z.string() });
const FractionRow = z.object({ saeId: z.string(), fraction: z.number() });

export interface NewExplanation {
  saeId: string;
  featureIndex: number;
  text: string;
  method: string;
  promptVersion: string;
  explainerModel: string;
  inputTokens: number | null;
  outputTokens: number | null;
  costUsd: number | null;
  jobId: string | null;
}

const COLUMNS = Prisma.sql`
  e.id::text AS id, e.sae_id AS "saeId", e.feature_idx AS "featureIndex", e.text, e.method,
  e.prompt_version AS "promptVersion", e.explainer_model AS "explainerModel", e.input_tokens AS "inputTokens",
  e.output_tokens AS "outputTokens", e.cost_usd AS "costUsd", e.job_id AS "jobId", e.created_at AS "createdAt"`;

// The quality a label is ranked by; one definition shared by every read.
const QUALITY = Prisma.sql`
  LEFT JOIN LATERAL (
    SELECT coalesce(avg(s.value) FILTER (WHERE s.metric = 'balanced_accuracy'),
                    avg(s.value) FILTER (WHERE s.metric = 'correlation'))::float8 AS quality
    FROM explanation_score s WHERE s.explanation_id = e.id
  ) q ON true`;

// Best first: scored above unscored, then human labels (a person looked at the feature),
// then LLM/imported above offline token patterns, then newest.
const RANK = Prisma.sql`q.quality DESC NULLS LAST, (e.method = 'human') DESC, (e.method LIKE 'token-pattern/%') ASC, e.created_at DESC, e.id DESC`;

/**
 * One feature's explanations, best first, as a JSON array: a correlated subquery for a statement
 * that reads the feature row `f` (the feature page in one statement, feature.repository.ts
 * pagesByKeys). Same rows and order as byFeatures; read back with explanationsFromJson.
 */
export const FEATURE_EXPLANATIONS_JSON = Prisma.sql`(
  SELECT coalesce(json_agg(json_build_object(
    'id', e.id::text, 'saeId', e.sae_id, 'featureIndex', e.feature_idx, 'text', e.text, 'method', e.method,
    'promptVersion', e.prompt_version, 'explainerModel', e.explainer_model, 'inputTokens', e.input_tokens,
    'outputTokens', e.output_tokens, 'costUsd', e.cost_usd, 'jobId', e.job_id, 'createdAt', e.created_at, 'quality', q.quality
  ) ORDER BY ${RANK}), '[]'::json)
  FROM explanation e
  ${QUALITY}
  WHERE e.sae_id = f.sae_id AND e.feature_idx = f.idx)`;

/** FEATURE_EXPLANATIONS_JSON's value as records (created_at is millisecond precision: its ISO text is exact). */
export function explanationsFromJson(v: unknown): ExplanationRecord[] {
  if (!Array.isArray(v)) throw new Error("invariant failed: a feature's explanations are not a JSON array");
  return v.map((e: unknown) => {
    const createdAt = e && typeof e === "object" && "createdAt" in e && typeof e.createdAt === "string" ? new Date(e.createdAt) : undefined;
    return ExplanationRecord.parse({ ...(e as object), createdAt });
  });
}

const keyArrays = (keys: readonly FeatureKey[]) => ({ saeIds: keys.map((k) => k.saeId), indices: keys.map((k) => k.index) });

export class ExplanationRepository {
  constructor(private readonly db: Database) {}

  /** Every explanation of the given features, best first per feature. */
  async byFeatures(keys: readonly FeatureKey[]): Promise<ExplanationRecord[]> {
    const { saeIds, indices } = keyArrays(keys);
    return this.db.rows(ExplanationRecord)`
      /* explanation.byFeatures */
      SELECT ${COLUMNS}, q.quality
      FROM unnest(${saeIds}::text[], ${indices}::int[]) AS k(sae_id, idx)
      JOIN explanation e ON e.sae_id = k.sae_id AND e.feature_idx = k.idx
      ${QUALITY}
      ORDER BY e.sae_id, e.feature_idx, ${RANK}`;
  }

  /** The single best explanation of each given feature (features without one are absent). */
  async bestByFeatures(keys: readonly FeatureKey[]): Promise<ExplanationRecord[]> {
    const { saeIds, indices } = keyArrays(keys);
    return this.db.rows(ExplanationRecord)`
      /* explanation.bestByFeatures */
      SELECT DISTINCT ON (e.sae_id, e.feature_idx) ${COLUMNS}, q.quality
      FROM unnest(${saeIds}::text[], ${indices}::int[]) AS k(sae_id, idx)
      JOIN explanation e ON e.sae_id = k.sae_id AND e.feature_idx = k.idx
      ${QUALITY}
      ORDER BY e.sae_id, e.feature_idx, ${RANK}`;
  }

  async scoresByExplanationIds(ids: readonly string[]): Promise<ScoreRecord[]> {
    return this.db.rows(ScoreRecord)`
      /* explanation.scoresByIds */
      SELECT s.explanation_id::text AS "explanationId", s.kind, s.metric, s.value, s.scorer_model AS "scorerModel"
      FROM explanation_score s
      WHERE s.explanation_id = ANY(${[...ids]}::bigint[])
      ORDER BY s.explanation_id, s.kind, s.metric`;
  }

  async find(saeId: string, featureIndex: number, method: string, promptVersion: string, explainerModel: string): Promise<string | null> {
    const rows = await this.db.prisma.$queryRaw`
      /* explanation.find */
      SELECT id::text AS id FROM explanation
      WHERE sae_id = ${saeId} AND feature_idx = ${featureIndex} AND method = ${method}
        AND prompt_version = ${promptVersion} AND explainer_model = ${explainerModel}`;
    return firstRow(IdRow, rows)?.id ?? null;
  }

  /**
   * Adds a human label (never merged with an earlier one). Null when the feature is not
   * visible (no such feature, or its SAE is not ready): nothing is written then.
   */
  async insertHuman(saeId: string, featureIndex: number, text: string): Promise<ExplanationRecord | null> {
    const rows = await this.db.sql`
      /* explanation.insertHuman */
      WITH e AS (
        INSERT INTO explanation (sae_id, feature_idx, text, method)
        SELECT f.sae_id, f.idx, ${text}, 'human'
        FROM feature f JOIN sae s ON s.id = f.sae_id AND s.status = 'ready'
        WHERE f.sae_id = ${saeId} AND f.idx = ${featureIndex}
        RETURNING *)
      SELECT ${COLUMNS}, NULL::float8 AS quality FROM e`;
    return rows[0] === undefined ? null : ExplanationRecord.parse(rows[0]);
  }

  /** Whether the SAE is ready, and whether it has this feature (to say which one is missing). */
  async visibility(saeId: string, featureIndex: number): Promise<{ sae: boolean; feature: boolean }> {
    const rows = await this.db.sql`
      /* explanation.visibility */
      SELECT EXISTS (SELECT 1 FROM sae WHERE id = ${saeId} AND status = 'ready') AS sae,
        EXISTS (SELECT 1 FROM feature WHERE sae_id = ${saeId} AND idx = ${featureIndex}) AS feature`;
    return z.object({ sae: z.boolean(), feature: z.boolean() }).parse(rows[0]);
  }

  /** Inserts unless the same (feature, method, prompt version, model) exists; returns the id either way. */
  async insert(e: NewExplanation): Promise<{ id: string; created: boolean }> {
    const rows = await this.db.prisma.$queryRaw`
      /* explanation.insert */
      INSERT INTO explanation (sae_id, feature_idx, text, method, prompt_version, explainer_model, input_tokens, output_tokens, cost_usd, job_id)
      VALUES (${e.saeId}, ${e.featureIndex}, ${e.text}, ${e.method}, ${e.promptVersion}, ${e.explainerModel},
              ${e.inputTokens}, ${e.outputTokens}, ${e.costUsd}, ${e.jobId})
      ON CONFLICT (sae_id, feature_idx, method, prompt_version, explainer_model) WHERE method <> 'human' DO NOTHING
      RETURNING id::text AS id`;
    const inserted = firstRow(IdRow, rows);
    if (inserted) return { id: inserted.id, created: true };
    const id = await this.find(e.saeId, e.featureIndex, e.method, e.promptVersion, e.explainerModel);
    return { id: id!, created: false };
  }

  /**
   * Writes (or rewrites) one method's labels for many features in one statement. A label
   * whose text changed loses its scores and vectors: they were about the old text.
   */
  async upsertMany(saeId: string, method: string, labels: readonly { featureIndex: number; text: string }[]): Promise<number> {
    if (labels.length === 0) return 0;
    const rows = await this.db.prisma.$queryRaw`
      /* explanation.upsertMany */
      WITH up AS (
        INSERT INTO explanation (sae_id, feature_idx, text, method)
        SELECT ${saeId}, l.idx, l.text, ${method}
        FROM unnest(${labels.map((l) => l.featureIndex)}::int[], ${labels.map((l) => l.text)}::text[]) AS l(idx, text)
        ON CONFLICT (sae_id, feature_idx, method, prompt_version, explainer_model) WHERE method <> 'human'
        DO UPDATE SET text = EXCLUDED.text, created_at = CURRENT_TIMESTAMP
        WHERE explanation.text IS DISTINCT FROM EXCLUDED.text
        RETURNING id),
      scores AS (DELETE FROM explanation_score WHERE explanation_id IN (SELECT id FROM up)),
      vectors AS (DELETE FROM explanation_embedding WHERE explanation_id IN (SELECT id FROM up))
      SELECT count(*)::int AS n FROM up`;
    return onlyRow(CountRow, rows).n;
  }

  async countByMethod(saeId: string, method: string): Promise<number> {
    const rows = await this.db.prisma.$queryRaw`
      /* explanation.countByMethod */
      SELECT count(*)::int AS n FROM explanation WHERE sae_id = ${saeId} AND method = ${method}`;
    return onlyRow(CountRow, rows).n;
  }

  /** Removes one method's labels from features not in `keep` (a rerun of the offline labeler). */
  async deleteMethodExcept(saeId: string, method: string, keep: readonly number[]): Promise<number> {
    return this.db.prisma.$executeRaw`
      /* explanation.deleteMethodExcept */
      DELETE FROM explanation WHERE sae_id = ${saeId} AND method = ${method} AND NOT (feature_idx = ANY(${[...keep]}::int[]))`;
  }

  /** The (explanation, kind) pairs of one feature that have no score from this scorer yet. */
  async unscored(saeId: string, featureIndex: number, kinds: readonly string[], scorerModel: string): Promise<{ id: string; text: string; kind: string }[]> {
    const rows = await this.db.prisma.$queryRaw`
      /* explanation.unscored */
      SELECT e.id::text AS id, e.text, k.kind
      FROM explanation e CROSS JOIN unnest(${[...kinds]}::text[]) AS k(kind)
      WHERE e.sae_id = ${saeId} AND e.feature_idx = ${featureIndex}
        AND NOT EXISTS (SELECT 1 FROM explanation_score s
                        WHERE s.explanation_id = e.id AND s.kind = k.kind AND s.scorer_model = ${scorerModel})
      ORDER BY e.id, k.kind`;
    return parseRows(UnscoredRow, rows);
  }

  async insertScores(
    explanationId: string,
    kind: string,
    scorerModel: string,
    metrics: Record<string, number>,
    details: Record<string, unknown>,
  ): Promise<void> {
    const names = Object.keys(metrics);
    await this.db.prisma.$executeRaw`
      /* explanation.insertScores */
      INSERT INTO explanation_score (sae_id, explanation_id, kind, metric, value, scorer_model, details)
      SELECT e.sae_id, e.id, ${kind}, m.metric, m.value, ${scorerModel}, ${JSON.stringify(details)}::jsonb
      FROM unnest(${names}::text[], ${names.map((n) => metrics[n])}::float8[]) AS m(metric, value)
      JOIN explanation e ON e.id = ${explanationId}::bigint
      ON CONFLICT (sae_id, explanation_id, kind, metric, scorer_model)
      DO UPDATE SET value = EXCLUDED.value, details = EXCLUDED.details, created_at = CURRENT_TIMESTAMP`;
  }

  /** Labels of these features without a vector from this embedder. */
  async unembedded(saeId: string, indices: readonly number[], embedder: string): Promise<{ id: string; featureIndex: number; text: string }[]> {
    const rows = await this.db.prisma.$queryRaw`
      /* explanation.unembedded */
      SELECT e.id::text AS id, e.feature_idx AS "featureIndex", e.text
      FROM explanation e
      WHERE e.sae_id = ${saeId} AND e.feature_idx = ANY(${[...indices]}::int[])
        AND NOT EXISTS (SELECT 1 FROM explanation_embedding ee WHERE ee.explanation_id = e.id AND ee.embedder = ${embedder})
      ORDER BY e.feature_idx, e.id`;
    return parseRows(UnembeddedRow, rows);
  }

  async insertEmbeddings(embedder: string, dim: number, items: readonly { id: string; vector: ArrayLike<number> }[]): Promise<void> {
    if (items.length === 0) return;
    await this.db.prisma.$executeRaw`
      /* explanation.insertEmbeddings */
      INSERT INTO explanation_embedding (sae_id, explanation_id, embedder, dim, embedding)
      SELECT e.sae_id, e.id, ${embedder}, ${dim}, i.v::vector
      FROM unnest(${items.map((i) => i.id)}::bigint[], ${items.map((i) => toVectorLiteral(i.vector))}::text[]) AS i(id, v)
      JOIN explanation e ON e.id = i.id
      ON CONFLICT (sae_id, explanation_id, embedder) DO UPDATE SET dim = EXCLUDED.dim, embedding = EXCLUDED.embedding`;
  }

  /** Fraction of an SAE's features with at least one explanation. */
  async labeledFractions(saeIds: readonly string[]): Promise<Map<string, number>> {
    const rows = await this.db.sql`
      /* explanation.labeledFractions */
      SELECT f.sae_id AS "saeId",
             (count(*) FILTER (WHERE EXISTS (SELECT 1 FROM explanation e WHERE e.sae_id = f.sae_id AND e.feature_idx = f.idx)))::float8
               / count(*)::float8 AS fraction
      FROM feature f
      WHERE f.sae_id = ANY(${[...saeIds]}::text[])
      GROUP BY f.sae_id`;
    return new Map(parseRows(FractionRow, rows).map((r) => [r.saeId, r.fraction]));
  }
}

/** One imported label, keyed as the table's unique key. */
export interface ImportedExplanation {
  index: number;
  text: string;
  method: string;
  promptVersion: string;
  explainerModel: string;
}

/** Imported labels (an artifact's explanations), on ingest's dedicated bulk connection: the same key, text replaced. */
export class ExplanationBulkLoad {
  constructor(private readonly conn: BulkStatements) {}

  async upsert(saeId: string, rows: readonly ImportedExplanation[]): Promise<void> {
    await this.conn.query(
      `/* ingest_upsert_explanations */
      INSERT INTO explanation (sae_id, feature_idx, text, method, prompt_version, explainer_model)
      SELECT $1, u.idx, u.text, u.method, u.pv, u.em
      FROM unnest($2::int[], $3::text[], $4::text[], $5::text[], $6::text[]) AS u(idx, text, method, pv, em)
      ON CONFLICT (sae_id, feature_idx, method, prompt_version, explainer_model) WHERE method <> 'human' DO UPDATE SET text = EXCLUDED.text`,
      [
        saeId,
        rows.map((r) => r.index),
        rows.map((r) => r.text),
        rows.map((r) => r.method),
        rows.map((r) => r.promptVersion),
        rows.map((r) => r.explainerModel),
      ],
    );
  }
}
