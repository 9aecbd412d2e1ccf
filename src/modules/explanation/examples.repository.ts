// SQL the auto-interp pipeline reads: a feature's activation examples, contexts of
// other features (non-activating examples), chunks of an SAE's activations for the
// offline labeler, and which features a new job should cover.
import { z } from "zod";
import type { Database } from "../../db/database.ts";
import { firstRow, IdxRow, numberArray, parseRows, stringArray } from "../../db/rows.ts";

const ExampleRow = z.object({
  featureIndex: z.number().int(),
  ordinal: z.number().int(),
  kind: z.string(),
  tokens: stringArray.nullable(),
  values: numberArray.nullable(),
  maxValue: z.number(),
  text: z.string(),
});
export type ExampleRow = z.infer<typeof ExampleRow> & { tokens: string[]; values: number[] };

const CleanExampleRow = {
  parse(r: unknown): ExampleRow {
    const p = ExampleRow.parse(r);
    return { ...p, tokens: p.tokens ?? [], values: p.values ?? [] };
  },
};

// Arrays travel as JSON text (see chunk), checked by hand: this pass reads every activation
// row of an SAE, where a schema per element costs more than the parse. Null values read as 0.
const ChunkKeys = z.object({ featureIndex: z.number().int(), t: z.string().nullable(), v: z.string().nullable() });
const ChunkRow = {
  parse(row: unknown): { featureIndex: number; tokens: string[]; values: number[] } {
    const r = ChunkKeys.parse(row);
    const tokens: unknown = r.t ? JSON.parse(r.t) : [];
    const raw: unknown = r.v ? JSON.parse(r.v) : [];
    if (!Array.isArray(tokens) || !tokens.every((t) => typeof t === "string")) throw new Error("examples.chunk: tokens is not a text array");
    if (!Array.isArray(raw)) throw new Error("examples.chunk: values is not an array");
    const values = new Array<number>(raw.length);
    for (let i = 0; i < raw.length; i++) {
      const x: unknown = raw[i];
      if (x !== null && typeof x !== "number") throw new Error("examples.chunk: values is not a number array");
      values[i] = x ?? 0;
    }
    return { featureIndex: r.featureIndex, tokens, values };
  },
};
const MaxRow = z.object({ m: z.number().int().nullable() });
const idxOf = (rows: unknown) => parseRows(IdxRow, rows).map((r) => r.idx);

export interface Selection {
  /** Only these features (else all). */
  indices?: readonly number[] | null;
  limit?: number | null;
}

const NO_LIMIT = 2_147_483_647;

export class ExamplesRepository {
  constructor(private readonly db: Database) {}

  async examplesOf(saeId: string, featureIndex: number): Promise<ExampleRow[]> {
    const rows = await this.db.prisma.$queryRaw`
      /* examples.of */
      SELECT feature_idx AS "featureIndex", ordinal, kind, tokens, "values", max_value AS "maxValue", text
      FROM activation WHERE sae_id = ${saeId} AND feature_idx = ${featureIndex}
        -- Text examples only: image examples (no tokens) have nothing to show a text explainer.
        AND cardinality(tokens) > 0
      ORDER BY ordinal`;
    return parseRows(CleanExampleRow, rows);
  }

  /** Features with at least one activating example ("alive" for labelling purposes). */
  async activeFeatureIndices(saeId: string): Promise<number[]> {
    const rows = await this.db.prisma.$queryRaw`
      /* examples.activeFeatures */
      SELECT DISTINCT feature_idx AS idx FROM activation WHERE sae_id = ${saeId} AND max_value > 0 ORDER BY idx`;
    return idxOf(rows);
  }

  /** The strongest top example of each given feature: contexts that belong to other features. */
  async strongestContexts(saeId: string, indices: readonly number[]): Promise<ExampleRow[]> {
    const rows = await this.db.prisma.$queryRaw`
      /* examples.strongestContexts */
      SELECT DISTINCT ON (feature_idx) feature_idx AS "featureIndex", ordinal, kind, tokens, "values", max_value AS "maxValue", text
      FROM activation
      WHERE sae_id = ${saeId} AND feature_idx = ANY(${[...indices]}::int[]) AND max_value > 0 AND cardinality(tokens) > 0
      ORDER BY feature_idx, max_value DESC, ordinal`;
    return parseRows(CleanExampleRow, rows);
  }

  /**
   * Tokens and values of every activation row of features [from, to), for the offline
   * labeler's streaming pass. Arrays travel as JSON text: parsing them in JavaScript is
   * several times faster than the driver adapters' array decoding on this many rows.
   */
  async chunk(saeId: string, from: number, to: number): Promise<{ featureIndex: number; tokens: string[]; values: number[] }[]> {
    const rows = await this.db.prisma.$queryRaw`
      /* examples.chunk */
      SELECT feature_idx AS "featureIndex", array_to_json(tokens)::text AS t, array_to_json("values")::text AS v
      FROM activation WHERE sae_id = ${saeId} AND feature_idx >= ${from} AND feature_idx < ${to}
      ORDER BY feature_idx, ordinal`;
    return parseRows(ChunkRow, rows);
  }

  async maxFeatureIndex(saeId: string): Promise<number | null> {
    const rows = await this.db.prisma.$queryRaw`
      /* examples.maxFeatureIndex */
      SELECT max(feature_idx) AS m FROM activation WHERE sae_id = ${saeId}`;
    return firstRow(MaxRow, rows)?.m ?? null;
  }

  /** Alive features without an explanation under this key. */
  async explainCandidates(saeId: string, key: { method: string; promptVersion: string; model: string }, sel: Selection): Promise<number[]> {
    const only = sel.indices ? [...sel.indices] : null;
    const rows = await this.db.prisma.$queryRaw`
      /* examples.explainCandidates */
      SELECT DISTINCT a.feature_idx AS idx
      FROM activation a
      WHERE a.sae_id = ${saeId} AND a.max_value > 0
        AND (${only}::int[] IS NULL OR a.feature_idx = ANY(${only}::int[]))
        AND NOT EXISTS (SELECT 1 FROM explanation e
                        WHERE e.sae_id = a.sae_id AND e.feature_idx = a.feature_idx AND e.method = ${key.method}
                          AND e.prompt_version = ${key.promptVersion} AND e.explainer_model = ${key.model})
      ORDER BY idx
      LIMIT ${sel.limit ?? NO_LIMIT}`;
    return idxOf(rows);
  }

  /** Features with an explanation missing one of these score kinds from this scorer. */
  async scoreCandidates(saeId: string, kinds: readonly string[], scorerModel: string, sel: Selection): Promise<number[]> {
    const only = sel.indices ? [...sel.indices] : null;
    const rows = await this.db.prisma.$queryRaw`
      /* examples.scoreCandidates */
      SELECT DISTINCT e.feature_idx AS idx
      FROM explanation e CROSS JOIN unnest(${[...kinds]}::text[]) AS k(kind)
      WHERE e.sae_id = ${saeId}
        AND (${only}::int[] IS NULL OR e.feature_idx = ANY(${only}::int[]))
        AND NOT EXISTS (SELECT 1 FROM explanation_score s
                        WHERE s.explanation_id = e.id AND s.kind = k.kind AND s.scorer_model = ${scorerModel})
      ORDER BY idx
      LIMIT ${sel.limit ?? NO_LIMIT}`;
    return idxOf(rows);
  }

  /** Features with a label that has no vector from this embedder. */
  async embedCandidates(saeId: string, embedder: string, sel: Selection): Promise<number[]> {
    const only = sel.indices ? [...sel.indices] : null;
    const rows = await this.db.prisma.$queryRaw`
      /* examples.embedCandidates */
      SELECT DISTINCT e.feature_idx AS idx
      FROM explanation e
      WHERE e.sae_id = ${saeId}
        AND (${only}::int[] IS NULL OR e.feature_idx = ANY(${only}::int[]))
        AND NOT EXISTS (SELECT 1 FROM explanation_embedding ee WHERE ee.explanation_id = e.id AND ee.embedder = ${embedder})
      ORDER BY idx
      LIMIT ${sel.limit ?? NO_LIMIT}`;
    return idxOf(rows);
  }
}
