// Reads an SAE back out for `monoscope export neuronpedia`, in keyset-paginated pages.
import { z } from "zod";
import type { Database } from "../../db/database.ts";
import { intArray, numberArray, parseRows, stringArray } from "../../db/rows.ts";

const num = z.number().nullable();
// The dashboard jsonb columns, in the shapes ingest writes (ingest.types.ts FeatureDashboard).
const nums = numberArray;
const TokenValues = z.array(z.object({ token: z.string(), value: z.number() })).nullable();
const Histogram = z.object({ values: nums, heights: nums }).nullable();
const Correlation = z.object({ indices: nums, pearson: nums, l1: nums }).nullable();
const Alignment = z.object({ indices: nums, values: nums, l1: nums }).nullable();
const FeatureExportRow = z.object({
  idx: z.number().int(),
  decoder: z.string().nullable(),
  decoder_norm: num,
  encoder: z.string().nullable(),
  b_enc: num,
  threshold: num,
  density: num,
  max_activation: num,
  neuron_index: z.number().int().nullable(),
  neuron_cosine: num,
  neuron_corr_index: z.number().int().nullable(),
  neuron_corr_pearson: num,
  nn_indices: intArray.nullable(),
  nn_cosines: numberArray.nullable(),
  pos_logits: TokenValues,
  neg_logits: TokenValues,
  freq_histogram: Histogram,
  logits_histogram: Histogram,
  correlated_neurons: Correlation,
  correlated_features: Correlation,
  neuron_alignment: Alignment,
  extra: z.record(z.string(), z.unknown()).nullable(),
  has_dashboard: z.boolean(),
});
export type FeatureExportRow = z.infer<typeof FeatureExportRow>;

const ActivationExportRow = z.object({
  feature_idx: z.number().int(),
  ordinal: z.number().int(),
  tokens: stringArray,
  values: numberArray,
  max_value: z.number(),
  max_token_index: z.number().int(),
  kind: z.string(),
  bin_min: num,
  bin_max: num,
  source: z.string().nullable(),
  text: z.string(),
  raw_tokens: stringArray.nullable(),
  source_fields: z.record(z.string(), z.unknown()).nullable(),
});
export type ActivationExportRow = z.infer<typeof ActivationExportRow>;

const NativeActivationRow = z.object({
  feature_idx: z.number().int(),
  ordinal: z.number().int(),
  tokens: stringArray.nullable(),
  values: numberArray,
  kind: z.string(),
  bin_min: num,
  bin_max: num,
  source: z.string().nullable(),
  image_sha256: z.string().nullable(),
  image_url: z.string().nullable(),
  image_width: z.number().int().nullable(),
  image_height: z.number().int().nullable(),
  patch_rows: z.number().int().nullable(),
  patch_cols: z.number().int().nullable(),
});
export type NativeActivationRow = z.infer<typeof NativeActivationRow>;
const FeatureStatsRow = z.object({ idx: z.number().int(), density: num, max_activation: num });
export type FeatureStatsRow = z.infer<typeof FeatureStatsRow>;
const ImageBytesRow = z.object({ content_type: z.string(), bytes: z.instanceof(Uint8Array) });

const ExplanationExportRow = z.object({
  id: z.union([z.bigint(), z.number()]).transform((v) => Number(v)),
  feature_idx: z.number().int(),
  text: z.string(),
  method: z.string(),
  prompt_version: z.string(),
  explainer_model: z.string(),
});
export type ExplanationExportRow = z.infer<typeof ExplanationExportRow>;

export class ExportRepository {
  constructor(private readonly db: Database) {}

  async sae(id: string) {
    return this.db.prisma.sae.findUnique({ where: { id }, include: { model: { select: { dModel: true } } } });
  }

  async features(saeId: string, after: number, limit: number): Promise<FeatureExportRow[]> {
    const rows = await this.db.prisma.$queryRaw`/* export_features */
      SELECT f.idx, f.decoder::text AS decoder, f.decoder_norm, f.encoder::text AS encoder, f.b_enc, f.threshold,
             f.density, f.max_activation, f.neuron_index, f.neuron_cosine, f.neuron_corr_index, f.neuron_corr_pearson,
             f.nn_indices, f.nn_cosines,
             d.pos_logits, d.neg_logits, d.freq_histogram, d.logits_histogram, d.correlated_neurons,
             d.correlated_features, d.neuron_alignment, d.extra, (d.idx IS NOT NULL) AS has_dashboard
      FROM feature f LEFT JOIN feature_dashboard d ON d.sae_id = f.sae_id AND d.idx = f.idx
      WHERE f.sae_id = ${saeId} AND f.idx > ${after}
      ORDER BY f.idx LIMIT ${limit}`;
    return parseRows(FeatureExportRow, rows);
  }

  async activations(saeId: string, after: [number, number], limit: number): Promise<ActivationExportRow[]> {
    const rows = await this.db.prisma.$queryRaw`/* export_activations */
      SELECT feature_idx, ordinal, tokens, values, max_value, max_token_index, kind, bin_min, bin_max, source, text,
             raw_tokens, source_fields
      FROM activation
      -- Neuronpedia's layout has no image examples (they have no tokens): export activations carries them.
      WHERE sae_id = ${saeId} AND (feature_idx, ordinal) > (${after[0]}, ${after[1]}) AND cardinality(tokens) > 0
      ORDER BY feature_idx, ordinal LIMIT ${limit}`;
    return parseRows(ActivationExportRow, rows);
  }

  /** Activation rows with their images (native export), in (feature, ordinal) order. */
  async nativeActivations(saeId: string, after: [number, number], limit: number): Promise<NativeActivationRow[]> {
    const rows = await this.db.prisma.$queryRaw`/* export_native_activations */
      SELECT a.feature_idx, a.ordinal, a.tokens, a.values, a.kind, a.bin_min, a.bin_max, a.source,
             i.image_sha256, i.url AS image_url, i.width AS image_width, i.height AS image_height, i.patch_rows, i.patch_cols
      FROM activation a
      LEFT JOIN activation_image i ON i.sae_id = a.sae_id AND i.feature_idx = a.feature_idx AND i.ordinal = a.ordinal
      WHERE a.sae_id = ${saeId} AND (a.feature_idx, a.ordinal) > (${after[0]}, ${after[1]})
      ORDER BY a.feature_idx, a.ordinal LIMIT ${limit}`;
    return parseRows(NativeActivationRow, rows);
  }

  /** Features with a density or max activation (the native format's feature records). */
  async featureStats(saeId: string, after: number, limit: number): Promise<FeatureStatsRow[]> {
    const rows = await this.db.prisma.$queryRaw`/* export_feature_stats */
      SELECT idx, density, max_activation FROM feature
      WHERE sae_id = ${saeId} AND idx > ${after} AND (density IS NOT NULL OR max_activation IS NOT NULL)
      ORDER BY idx LIMIT ${limit}`;
    return parseRows(FeatureStatsRow, rows);
  }

  async imageBytes(sha256: string): Promise<{ contentType: string; bytes: Uint8Array } | null> {
    const rows = await this.db.prisma.$queryRaw`/* export_image */ SELECT content_type, bytes FROM example_image WHERE sha256 = ${sha256}`;
    const r = parseRows(ImageBytesRow, rows)[0];
    return r ? { contentType: r.content_type, bytes: r.bytes } : null;
  }

  async explanations(saeId: string, afterId: number, limit: number): Promise<ExplanationExportRow[]> {
    const rows = await this.db.prisma.$queryRaw`/* export_explanations */
      SELECT id, feature_idx, text, method, prompt_version, explainer_model
      FROM explanation WHERE sae_id = ${saeId} AND id > ${afterId}
      ORDER BY id LIMIT ${limit}`;
    return parseRows(ExplanationExportRow, rows);
  }
}
