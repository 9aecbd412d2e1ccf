// SQL for features, their dashboards and activation examples. Every read is keyed by
// many (sae_id, idx) pairs at once (unnest of two arrays) so DataLoaders can batch a
// whole GraphQL response into one statement per kind of data. Only features of SAEs
// with status 'ready' are visible. Their rows are written by the bulk-load statements
// in feature-bulk.repository.ts, which ingest runs. The by-key reads also find the features of
// an SAE being deleted (its rows stay for the grace period, see IngestService.removeSae), marked
// saeDeleting: a key a request already holds reads whole, and entry points (Query.feature) drop them.
import { z } from "zod";
import type { Database } from "../../db/database.ts";
import { Prisma } from "../../generated/prisma/client.ts";
import { CountRow, numberArray, onlyRow, parseRows, type RowParser, stringArray } from "../../db/rows.ts";
import { parseVectorLiteral } from "../../db/vector.ts";
import { type FeatureKey, featureKey } from "../../shared/feature-key.ts";

const num = z.number().nullable();
export const FeatureRow = z.object({
  saeId: z.string(),
  index: z.number().int(),
  decoderNorm: num,
  density: num,
  maxActivation: num,
  neuronIndex: z.number().int().nullable(),
  neuronCosine: num,
  umapX: num,
  umapY: num,
  splitKind: z.string().nullable(),
  originKind: z.string().nullable(),
  /** True when the SAE is being deleted (by-key reads only): not visible to a request that did not already hold it. */
  saeDeleting: z.boolean().nullish().transform((v) => (v === true ? true : undefined)),
});
export type FeatureRow = z.infer<typeof FeatureRow>;

export const ActivationRow = z.object({
  saeId: z.string(),
  index: z.number().int(),
  tokens: stringArray.nullable(),
  values: numberArray.nullable(),
  maxValue: z.number(),
  maxTokenIndex: z.number().int(),
  kind: z.string(),
  binMin: num,
  binMax: num,
  text: z.string(),
  /** Image examples (activation_image): stored image hash or external url, size and patch grid. */
  imageSha256: z.string().nullable(),
  imageUrl: z.string().nullable(),
  imageWidth: z.number().int().nullable(),
  imageHeight: z.number().int().nullable(),
  patchRows: z.number().int().nullable(),
  patchCols: z.number().int().nullable(),
});
export type ActivationRow = z.infer<typeof ActivationRow>;

export const DashboardRow = z.object({
  saeId: z.string(),
  index: z.number().int(),
  posLogits: z.unknown(),
  negLogits: z.unknown(),
  freqHistogram: z.unknown(),
  logitsHistogram: z.unknown(),
});
export type DashboardRow = z.infer<typeof DashboardRow>;

const DecoderTextRow = z.object({ saeId: z.string(), index: z.number().int(), decoder: z.string().nullable() });

export type FeatureOrder = "INDEX" | "DENSITY_DESC" | "MAX_ACTIVATION_DESC";

export interface FeatureFilter {
  labeled?: boolean | null;
  minDensity?: number | null;
  maxDensity?: number | null;
}

/** Where a page starts: after the row with this sort value (density or max activation) and index. */
export interface PageAfter {
  value: number | null;
  index: number;
}

const FEATURE_COLUMNS = Prisma.sql`
  f.sae_id AS "saeId", f.idx AS "index", f.decoder_norm AS "decoderNorm", f.density, f.max_activation AS "maxActivation",
  f.neuron_index AS "neuronIndex", f.neuron_cosine AS "neuronCosine", f.umap_x AS "umapX", f.umap_y AS "umapY",
  f.split_kind AS "splitKind", f.origin_kind AS "originKind"`;

/** Null unless the feature's SAE (joined as s) is being deleted. */
const SAE_DELETING = Prisma.sql`CASE WHEN s.status = 'deleting' THEN true END AS "saeDeleting"`;

/**
 * What a feature page reads beside the row, in the same statement: its explanations (the
 * explanation module's subquery over the row `f` and its parser, passed in by the service),
 * activation examples for each (first, kinds) asked for (first > 0, kinds lower case,
 * non-empty), and the stored neighbour list.
 */
export interface PageParts<E = unknown> {
  explanations: { sql: Prisma.Sql; parse(v: unknown): E[] } | null;
  activations: readonly { first: number; kinds: readonly string[] }[];
  neighbourList: boolean;
}

/** A feature row with the parts its page asked for (null or [] where not asked). */
export interface FeaturePageRow<E = unknown> {
  row: FeatureRow;
  explanations: E[] | null;
  /** One list per PageParts.activations entry, in the same order. */
  activations: ActivationRow[][];
  nnIndices: number[] | null;
  nnCosines: number[] | null;
}

// Hand-written checks for the page statement's rows (the hot path: one row and its examples per
// page), the same as FeatureRow and ActivationRow (rows.ts: a typed mapper is a parser too).
function fail(field: string, v: unknown): never {
  throw new Error(`invariant failed: feature page row field ${field} is ${JSON.stringify(v)}`);
}
const str = (o: Record<string, unknown>, f: string): string => (typeof o[f] === "string" ? (o[f] as string) : fail(f, o[f]));
const int = (o: Record<string, unknown>, f: string): number => (Number.isInteger(o[f]) ? (o[f] as number) : fail(f, o[f]));
// Finite, as zod's z.number() requires.
const numb = (o: Record<string, unknown>, f: string): number => (Number.isFinite(o[f]) ? (o[f] as number) : fail(f, o[f]));
const orNull = <T>(check: (o: Record<string, unknown>, f: string) => T) => (o: Record<string, unknown>, f: string): T | null => (o[f] === null ? null : check(o, f));
const nstr = orNull(str);
const nint = orNull(int);
const nnum = orNull(numb);
const arrayOf = (pred: (x: unknown) => boolean) => (o: Record<string, unknown>, f: string): unknown[] => {
  const v = o[f];
  if (!Array.isArray(v)) return fail(f, v);
  for (let i = 0; i < v.length; i++) if (!pred(v[i])) fail(f, v);
  return v;
};
const nstrings = orNull(arrayOf((x) => typeof x === "string")) as (o: Record<string, unknown>, f: string) => string[] | null;
const nnumbers = orNull(arrayOf((x) => typeof x === "number")) as (o: Record<string, unknown>, f: string) => number[] | null;
const nints = orNull(arrayOf(Number.isInteger)) as (o: Record<string, unknown>, f: string) => number[] | null;
const isRecord = (v: unknown): v is Record<string, unknown> => !!v && typeof v === "object" && !Array.isArray(v);

const pageFeatureRow: RowParser<FeatureRow> = {
  parse(v) {
    if (!isRecord(v)) return fail("row", v);
    return {
      saeId: str(v, "saeId"), index: int(v, "index"), decoderNorm: nnum(v, "decoderNorm"), density: nnum(v, "density"),
      maxActivation: nnum(v, "maxActivation"), neuronIndex: nint(v, "neuronIndex"), neuronCosine: nnum(v, "neuronCosine"),
      umapX: nnum(v, "umapX"), umapY: nnum(v, "umapY"), splitKind: nstr(v, "splitKind"), originKind: nstr(v, "originKind"),
      saeDeleting: v.saeDeleting === true ? true : undefined,
    };
  },
};
const pageActivationRow: RowParser<ActivationRow> = {
  parse(v) {
    if (!isRecord(v)) return fail("activation", v);
    return {
      saeId: str(v, "saeId"), index: int(v, "index"), tokens: nstrings(v, "tokens"), values: nnumbers(v, "values"),
      maxValue: numb(v, "maxValue"), maxTokenIndex: int(v, "maxTokenIndex"), kind: str(v, "kind"), binMin: nnum(v, "binMin"),
      binMax: nnum(v, "binMax"), text: str(v, "text"), imageSha256: nstr(v, "imageSha256"), imageUrl: nstr(v, "imageUrl"),
      imageWidth: nint(v, "imageWidth"), imageHeight: nint(v, "imageHeight"), patchRows: nint(v, "patchRows"), patchCols: nint(v, "patchCols"),
    };
  },
};

function partsParser<E>(parts: PageParts<E>): RowParser<FeaturePageRow<E>> {
  return {
    parse(r: unknown): FeaturePageRow<E> {
      const o = r as Record<string, unknown>;
      return {
        row: pageFeatureRow.parse(r),
        explanations: parts.explanations ? parts.explanations.parse(o.explanations) : null,
        activations: parts.activations.map((_, i) => parseRows(pageActivationRow, o[`a${i}`])),
        nnIndices: parts.neighbourList ? nints(o, "nnIndices") : null,
        nnCosines: parts.neighbourList ? nnumbers(o, "nnCosines") : null,
      };
    },
  };
}

// One feature's activation examples as a JSON array, for a statement over the feature row `f`:
// the same rows, order and columns as activationsByKeys.
function activationsJson(first: number, kinds: readonly string[]): Prisma.Sql {
  return Prisma.sql`(
    SELECT coalesce(json_agg(json_build_object(
      'saeId', r.sae_id, 'index', r.feature_idx, 'tokens', r.tokens, 'values', r."values", 'maxValue', r.max_value,
      'maxTokenIndex', r.max_token_index, 'kind', r.kind, 'binMin', r.bin_min, 'binMax', r.bin_max, 'text', r.text,
      'imageSha256', ai.image_sha256, 'imageUrl', ai.url, 'imageWidth', ai.width, 'imageHeight', ai.height,
      'patchRows', ai.patch_rows, 'patchCols', ai.patch_cols
    ) ORDER BY r.rn), '[]'::json)
    FROM (
      SELECT a.sae_id, a.feature_idx, a.tokens, a."values", a.max_value, a.max_token_index, a.kind, a.bin_min, a.bin_max, a.text, a.ordinal,
             row_number() OVER (ORDER BY (a.kind = 'top') DESC, a.bin_max DESC NULLS FIRST, a.max_value DESC, a.ordinal) AS rn
      FROM activation a
      WHERE a.sae_id = f.sae_id AND a.feature_idx = f.idx AND a.kind = ANY(${[...kinds]}::text[])
      ORDER BY rn
      LIMIT ${first}
    ) r
    LEFT JOIN activation_image ai ON ai.sae_id = r.sae_id AND ai.feature_idx = r.feature_idx AND ai.ordinal = r.ordinal)`;
}

// The columns by page shape (which parts, each activation request's first and kinds): the same
// few shapes come back on every page, and composing them is a measurable part of a page.
const columnsByShape = new Map<string, { explanations: Prisma.Sql | null; cols: Prisma.Sql }>();

function partColumns(parts: PageParts<unknown>): Prisma.Sql {
  const shape = `${parts.explanations ? "e" : "-"}${parts.neighbourList ? "n" : "-"}${JSON.stringify(parts.activations)}`;
  const explanations = parts.explanations?.sql ?? null;
  const known = columnsByShape.get(shape);
  if (known && known.explanations === explanations) return known.cols;
  const cols = composeColumns(parts);
  if (columnsByShape.size >= 256) columnsByShape.clear();
  columnsByShape.set(shape, { explanations, cols });
  return cols;
}

function composeColumns(parts: PageParts<unknown>): Prisma.Sql {
  const cols: Prisma.Sql[] = [];
  if (parts.explanations) cols.push(Prisma.sql`${parts.explanations.sql} AS "explanations"`);
  parts.activations.forEach((a, i) => cols.push(Prisma.sql`${activationsJson(a.first, a.kinds)} AS ${Prisma.raw(`"a${i}"`)}`));
  if (parts.neighbourList) cols.push(Prisma.sql`f.nn_indices AS "nnIndices", f.nn_cosines AS "nnCosines"`);
  return cols.length ? Prisma.sql`, ${Prisma.join(cols, ", ")}` : Prisma.empty;
}

function keyArrays(keys: readonly FeatureKey[]) {
  return { saeIds: keys.map((k) => k.saeId), indices: keys.map((k) => k.index) };
}

export class FeatureRepository {
  constructor(private readonly db: Database) {}

  async featuresByKeys(keys: readonly FeatureKey[]): Promise<FeatureRow[]> {
    const { saeIds, indices } = keyArrays(keys);
    return this.db.rows(FeatureRow)`
      /* feature.byKeys */
      SELECT ${FEATURE_COLUMNS}, ${SAE_DELETING}
      FROM unnest(${saeIds}::text[], ${indices}::int[]) AS k(sae_id, idx)
      JOIN feature f ON f.sae_id = k.sae_id AND f.idx = k.idx
      JOIN sae s ON s.id = f.sae_id AND s.status IN ('ready', 'deleting')`;
  }

  /** Feature rows with their pages' parts (labels, examples, stored neighbour list): one statement for all. */
  async pagesByKeys<E>(keys: readonly FeatureKey[], parts: PageParts<E>): Promise<FeaturePageRow<E>[]> {
    const { saeIds, indices } = keyArrays(keys);
    return this.db.rows(partsParser(parts))`
      /* feature.pagesByKeys */
      SELECT ${FEATURE_COLUMNS}, ${SAE_DELETING}${partColumns(parts)}
      FROM unnest(${saeIds}::text[], ${indices}::int[]) AS k(sae_id, idx)
      JOIN feature f ON f.sae_id = k.sae_id AND f.idx = k.idx
      JOIN sae s ON s.id = f.sae_id AND s.status IN ('ready', 'deleting')`;
  }

  /** Unit decoder directions as text '[..]' (halfvec), parsed to floats. */
  async decodersByKeys(keys: readonly FeatureKey[]): Promise<Map<string, Float32Array>> {
    const { saeIds, indices } = keyArrays(keys);
    const rows = await this.db.rows(DecoderTextRow)`
      /* feature.decodersByKeys */
      SELECT f.sae_id AS "saeId", f.idx AS "index", f.decoder::text AS decoder
      FROM unnest(${saeIds}::text[], ${indices}::int[]) AS k(sae_id, idx)
      JOIN feature f ON f.sae_id = k.sae_id AND f.idx = k.idx`;
    const out = new Map<string, Float32Array>();
    for (const r of rows) if (r.decoder !== null) out.set(featureKey(r), parseVectorLiteral(r.decoder));
    return out;
  }

  async dashboardsByKeys(keys: readonly FeatureKey[]): Promise<DashboardRow[]> {
    const { saeIds, indices } = keyArrays(keys);
    return this.db.rows(DashboardRow)`
      /* feature.dashboardsByKeys */
      SELECT d.sae_id AS "saeId", d.idx AS "index", d.pos_logits AS "posLogits", d.neg_logits AS "negLogits",
             d.freq_histogram AS "freqHistogram", d.logits_histogram AS "logitsHistogram"
      FROM unnest(${saeIds}::text[], ${indices}::int[]) AS k(sae_id, idx)
      JOIN feature_dashboard d ON d.sae_id = k.sae_id AND d.idx = k.idx`;
  }

  /**
   * Up to `first` activation examples per feature of the given kinds: 'top' examples first
   * (strongest first), then 'quantile' samples (highest bin first).
   */
  async activationsByKeys(keys: readonly FeatureKey[], first: number, kinds: readonly string[]): Promise<ActivationRow[]> {
    const { saeIds, indices } = keyArrays(keys);
    return this.db.rows(ActivationRow)`
      /* feature.activationsByKeys */
      SELECT "saeId", "index", tokens, "values", "maxValue", "maxTokenIndex", kind, "binMin", "binMax", text,
             ai.image_sha256 AS "imageSha256", ai.url AS "imageUrl", ai.width AS "imageWidth", ai.height AS "imageHeight",
             ai.patch_rows AS "patchRows", ai.patch_cols AS "patchCols"
      FROM (
        SELECT a.sae_id AS "saeId", a.feature_idx AS "index", a.tokens, a."values", a.max_value AS "maxValue",
               a.max_token_index AS "maxTokenIndex", a.kind, a.bin_min AS "binMin", a.bin_max AS "binMax", a.text, a.ordinal,
               row_number() OVER (
                 PARTITION BY a.sae_id, a.feature_idx
                 ORDER BY (a.kind = 'top') DESC, a.bin_max DESC NULLS FIRST, a.max_value DESC, a.ordinal
               ) AS rn
        FROM unnest(${saeIds}::text[], ${indices}::int[]) AS k(sae_id, idx)
        JOIN activation a ON a.sae_id = k.sae_id AND a.feature_idx = k.idx
        WHERE a.kind = ANY(${[...kinds]}::text[])
      ) ranked
      LEFT JOIN activation_image ai ON ai.sae_id = ranked."saeId" AND ai.feature_idx = ranked."index" AND ai.ordinal = ranked.ordinal
      WHERE rn <= ${first}
      ORDER BY "saeId", "index", rn`;
  }

  /**
   * One page of an SAE's features in the given order (keyset pagination: stable under
   * inserts). Value orderings read rows with a value first, seeking on the
   * (sae_id, -value, idx) index, then rows without one by index.
   */
  async page(saeId: string, order: FeatureOrder, filter: FeatureFilter, after: PageAfter | null, limit: number): Promise<FeatureRow[]> {
    const base = [Prisma.sql`f.sae_id = ${saeId}`, ...filterConditions(filter)];
    if (order === "INDEX") {
      return this.select([...base, ...(after ? [Prisma.sql`f.idx > ${after.index}`] : [])], Prisma.sql`f.idx`, limit);
    }
    // -value: the indexed expression (ASC NULLS LAST = value DESC NULLS LAST).
    const neg = order === "DENSITY_DESC" ? Prisma.sql`(-f.density)` : Prisma.sql`(-f.max_activation)`;
    let rows: FeatureRow[] = [];
    if (!after || after.value !== null) {
      // Compare in the column's own type (density DOUBLE PRECISION, max_activation REAL) so the
      // value that came back from it is equal to itself.
      const value = order === "DENSITY_DESC" ? Prisma.sql`${after?.value}::float8` : Prisma.sql`${after?.value}::real`;
      const seek = after ? Prisma.sql`(${neg}, f.idx) > (-(${value}), ${after.index})` : Prisma.sql`${neg} IS NOT NULL`;
      rows = await this.select([...base, seek], Prisma.sql`${neg}, f.idx`, limit);
      if (rows.length >= limit) return rows;
    }
    const nulls = [...base, Prisma.sql`${neg} IS NULL`, ...(after?.value === null ? [Prisma.sql`f.idx > ${after.index}`] : [])];
    return [...rows, ...(await this.select(nulls, Prisma.sql`f.idx`, limit - rows.length))];
  }

  private async select(where: Prisma.Sql[], orderBy: Prisma.Sql, limit: number): Promise<FeatureRow[]> {
    return this.db.rows(FeatureRow)`
      /* feature.page */
      SELECT ${FEATURE_COLUMNS}
      FROM feature f
      WHERE ${Prisma.join(where, " AND ")}
      ORDER BY ${orderBy}
      LIMIT ${limit}`;
  }

  async count(saeId: string, filter: FeatureFilter): Promise<number> {
    const where = [Prisma.sql`f.sae_id = ${saeId}`, ...filterConditions(filter)];
    const rows = await this.db.sql`
      /* feature.count */
      SELECT count(*)::int AS n FROM feature f WHERE ${Prisma.join(where, " AND ")}`;
    return onlyRow(CountRow, rows).n;
  }
}

function filterConditions(filter: FeatureFilter): Prisma.Sql[] {
  const out: Prisma.Sql[] = [];
  if (filter.minDensity != null) out.push(Prisma.sql`f.density >= ${filter.minDensity}::float8`);
  if (filter.maxDensity != null) out.push(Prisma.sql`f.density <= ${filter.maxDensity}::float8`);
  if (filter.labeled != null) {
    const exists = Prisma.sql`EXISTS (SELECT 1 FROM explanation e WHERE e.sae_id = f.sae_id AND e.feature_idx = f.idx)`;
    out.push(filter.labeled ? exists : Prisma.sql`NOT ${exists}`);
  }
  return out;
}
