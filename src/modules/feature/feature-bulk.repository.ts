// The only writes of feature, feature_dashboard and activation rows from SAE artifacts:
// the bulk-load statements ingest runs on its dedicated connection (new rows by binary
// COPY; rows that exist through a temp stage, merged so a NULL keeps what is stored).
// Fixed SQL text with $n parameters only; nothing here is assembled from input. The reads
// of these tables are in feature.repository.ts.
import { type BulkStatements, copyStatement } from "../../db/bulk.ts";
import { IdxRow, int8, parseRows } from "../../db/rows.ts";
import { z } from "zod";

const BULK_COLUMNS =
  "(sae_id, idx, decoder, decoder_norm, encoder, b_enc, threshold, density, max_activation, " +
  "neuron_index, neuron_cosine, neuron_corr_index, neuron_corr_pearson)";
/** Column order of the COPY tuples written by ingest/bulk/feature-tuple.ts. */
export const FEATURE_COPY = copyStatement("feature", "feature", BULK_COLUMNS);
export const FEATURE_STAGE_COPY = copyStatement("feature_stage", "ingest_feature_stage", BULK_COLUMNS);

/** One feature's dashboard columns as JSON text (null keeps what is stored). */
export interface DashboardJson {
  index: number;
  posLogits: string | null;
  negLogits: string | null;
  freqHistogram: string | null;
  logitsHistogram: string | null;
  correlatedNeurons: string | null;
  correlatedFeatures: string | null;
  neuronAlignment: string | null;
  extra: string | null;
}

/**
 * The bulk-load statements for feature and feature_dashboard rows, on ingest's dedicated
 * connection: new rows by binary COPY, rows that exist through a temp stage merged so a NULL
 * keeps what is stored. Fixed SQL text with $n parameters only.
 */
export class FeatureBulkLoad {
  private staged = false;
  constructor(private readonly conn: BulkStatements) {}

  async existingIndices(saeId: string): Promise<number[]> {
    const rows = await this.conn.query("/* ingest_existing_feature_indices */ SELECT idx FROM feature WHERE sae_id = $1", [saeId]);
    return parseRows(IdxRow, rows).map((r) => r.idx);
  }

  /** Rows for features not stored yet. */
  copy(tuples: Buffer): Promise<void> {
    return this.conn.copy(FEATURE_COPY, tuples);
  }

  /** Rows for features that may exist: staged, then merged (visible to later statements). */
  async merge(tuples: Buffer): Promise<void> {
    if (!this.staged) {
      await this.conn.query("/* ingest_create_feature_stage */ CREATE TEMP TABLE IF NOT EXISTS ingest_feature_stage (LIKE feature)");
      await this.truncateStage(); // a temp table left on a pooled connection by an aborted run
      this.staged = true;
    }
    await this.conn.copy(FEATURE_STAGE_COPY, tuples);
    await this.conn.query(`/* ingest_merge_feature_stage */
      INSERT INTO feature ${BULK_COLUMNS}
      SELECT sae_id, idx, decoder, decoder_norm, encoder, b_enc, threshold, density, max_activation,
             neuron_index, neuron_cosine, neuron_corr_index, neuron_corr_pearson
      FROM ingest_feature_stage
      ON CONFLICT (sae_id, idx) DO UPDATE SET
        decoder = COALESCE(EXCLUDED.decoder, feature.decoder),
        decoder_norm = COALESCE(EXCLUDED.decoder_norm, feature.decoder_norm),
        encoder = COALESCE(EXCLUDED.encoder, feature.encoder),
        b_enc = COALESCE(EXCLUDED.b_enc, feature.b_enc),
        threshold = COALESCE(EXCLUDED.threshold, feature.threshold),
        density = COALESCE(EXCLUDED.density, feature.density),
        max_activation = COALESCE(EXCLUDED.max_activation, feature.max_activation),
        neuron_index = COALESCE(EXCLUDED.neuron_index, feature.neuron_index),
        neuron_cosine = COALESCE(EXCLUDED.neuron_cosine, feature.neuron_cosine),
        neuron_corr_index = COALESCE(EXCLUDED.neuron_corr_index, feature.neuron_corr_index),
        neuron_corr_pearson = COALESCE(EXCLUDED.neuron_corr_pearson, feature.neuron_corr_pearson)`);
    await this.truncateStage();
  }

  private async truncateStage(): Promise<void> {
    await this.conn.query("/* ingest_truncate_feature_stage */ DELETE FROM ingest_feature_stage");
  }

  /** Drops the stage, if this load made one. */
  async finish(): Promise<void> {
    if (this.staged) await this.conn.query("/* ingest_drop_feature_stage */ DROP TABLE IF EXISTS ingest_feature_stage");
    this.staged = false;
  }

  /** Bare rows, so activations/explanations of features an artifact did not describe satisfy the FK. */
  async insertBare(saeId: string, indices: readonly number[]): Promise<void> {
    await this.conn.query(
      "/* ingest_insert_bare_features */ INSERT INTO feature (sae_id, idx) SELECT $1, i FROM unnest($2::int[]) AS u(i) ON CONFLICT DO NOTHING",
      [saeId, indices],
    );
  }

  async upsertDashboards(saeId: string, rows: readonly DashboardJson[]): Promise<void> {
    const col = <K extends keyof DashboardJson>(k: K) => rows.map((r) => r[k]);
    await this.conn.query(
      `/* ingest_upsert_dashboards */
      INSERT INTO feature_dashboard (sae_id, idx, pos_logits, neg_logits, freq_histogram, logits_histogram,
                                     correlated_neurons, correlated_features, neuron_alignment, extra)
      SELECT $1, u.idx, u.pl::jsonb, u.nl::jsonb, u.fh::jsonb, u.lh::jsonb, u.cn::jsonb, u.cf::jsonb, u.na::jsonb, u.ex::jsonb
      FROM unnest($2::int[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[])
           AS u(idx, pl, nl, fh, lh, cn, cf, na, ex)
      ON CONFLICT (sae_id, idx) DO UPDATE SET
        pos_logits = COALESCE(EXCLUDED.pos_logits, feature_dashboard.pos_logits),
        neg_logits = COALESCE(EXCLUDED.neg_logits, feature_dashboard.neg_logits),
        freq_histogram = COALESCE(EXCLUDED.freq_histogram, feature_dashboard.freq_histogram),
        logits_histogram = COALESCE(EXCLUDED.logits_histogram, feature_dashboard.logits_histogram),
        correlated_neurons = COALESCE(EXCLUDED.correlated_neurons, feature_dashboard.correlated_neurons),
        correlated_features = COALESCE(EXCLUDED.correlated_features, feature_dashboard.correlated_features),
        neuron_alignment = COALESCE(EXCLUDED.neuron_alignment, feature_dashboard.neuron_alignment),
        extra = COALESCE(EXCLUDED.extra, feature_dashboard.extra)`,
      [
        saeId,
        col("index"),
        col("posLogits"),
        col("negLogits"),
        col("freqHistogram"),
        col("logitsHistogram"),
        col("correlatedNeurons"),
        col("correlatedFeatures"),
        col("neuronAlignment"),
        col("extra"),
      ],
    );
  }
}

/** Column order of the COPY tuples written by ingest/bulk/activation-tuple.ts. */
export const ACTIVATION_COPY = copyStatement(
  "activation",
  "activation",
  "(sae_id, feature_idx, ordinal, tokens, values, max_value, max_token_index, kind, bin_min, bin_max, source, text, raw_tokens, source_fields)",
);

const NextOrdinalRow = z.object({ feature_idx: z.number().int(), next: int8 });

/** Activation examples: appended by COPY, ordinals continuing after those stored. */
export class ActivationBulkLoad {
  constructor(private readonly conn: BulkStatements) {}

  copy(tuples: Buffer): Promise<void> {
    return this.conn.copy(ACTIVATION_COPY, tuples);
  }

  /** The next free ordinal of each feature that has examples. */
  async nextOrdinals(saeId: string): Promise<[number, number][]> {
    const rows = await this.conn.query(
      "/* ingest_next_ordinals */ SELECT feature_idx, max(ordinal) + 1 AS next FROM activation WHERE sae_id = $1 GROUP BY feature_idx",
      [saeId],
    );
    return parseRows(NextOrdinalRow, rows).map((r) => [r.feature_idx, r.next]);
  }

  async deleteAll(saeId: string): Promise<void> {
    await this.conn.query("/* ingest_delete_activations */ DELETE FROM activation WHERE sae_id = $1", [saeId]);
  }
}
