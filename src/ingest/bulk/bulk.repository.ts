// The statements of the bulk path, run on a dedicated connection (see bulk-connection.ts).
// Fixed SQL text with $n parameters only; nothing here is assembled from input.

export type CopyTarget = "feature" | "feature_stage" | "activation";

const FEATURE_COLUMNS =
  "(sae_id, idx, decoder, decoder_norm, encoder, b_enc, threshold, density, max_activation, " +
  "neuron_index, neuron_cosine, neuron_corr_index, neuron_corr_pearson)";
const ACTIVATION_COLUMNS =
  "(sae_id, feature_idx, ordinal, tokens, values, max_value, max_token_index, kind, bin_min, bin_max, source, text)";

/** Column order of the COPY tuples written by ingest-encoders.ts. */
export const COPY_SQL: Record<"postgres" | "pglite", Record<CopyTarget, string>> = {
  postgres: {
    feature: `/* ingest_copy_feature */ COPY feature ${FEATURE_COLUMNS} FROM STDIN (FORMAT binary)`,
    feature_stage: `/* ingest_copy_feature_stage */ COPY ingest_feature_stage ${FEATURE_COLUMNS} FROM STDIN (FORMAT binary)`,
    activation: `/* ingest_copy_activation */ COPY activation ${ACTIVATION_COLUMNS} FROM STDIN (FORMAT binary)`,
  },
  pglite: {
    feature: `/* ingest_copy_feature */ COPY feature ${FEATURE_COLUMNS} FROM '/dev/blob' WITH (FORMAT binary)`,
    feature_stage: `/* ingest_copy_feature_stage */ COPY ingest_feature_stage ${FEATURE_COLUMNS} FROM '/dev/blob' WITH (FORMAT binary)`,
    activation: `/* ingest_copy_activation */ COPY activation ${ACTIVATION_COLUMNS} FROM '/dev/blob' WITH (FORMAT binary)`,
  },
};

export const SQL = {
  /** Held for the whole session: a second ingest of the same SAE id waits for nothing and fails fast. */
  tryLock: "/* ingest_try_lock */ SELECT pg_try_advisory_lock(hashtext('monoscope-ingest'), hashtext($1)) AS ok",
  unlock: "/* ingest_unlock */ SELECT pg_advisory_unlock(hashtext('monoscope-ingest'), hashtext($1))",

  /** User triggers on the tables the bulk path writes (foreign-key triggers are internal and not counted). */
  userTriggers: `/* ingest_user_triggers */ SELECT count(*)::int AS n FROM pg_trigger
    WHERE NOT tgisinternal AND tgrelid IN ('feature'::regclass, 'activation'::regclass, 'feature_dashboard'::regclass, 'explanation'::regclass)`,
  /** As pg_restore --disable-triggers: skips the per-row foreign-key checks (superuser only). */
  skipTriggers: "/* ingest_skip_triggers */ SET session_replication_role = replica",
  restoreTriggers: "/* ingest_restore_triggers */ SET session_replication_role = DEFAULT",

  existingFeatureIndices: "/* ingest_existing_feature_indices */ SELECT idx FROM feature WHERE sae_id = $1",
  nextOrdinals:
    "/* ingest_next_ordinals */ SELECT feature_idx, max(ordinal) + 1 AS next FROM activation WHERE sae_id = $1 GROUP BY feature_idx",
  deleteActivations: "/* ingest_delete_activations */ DELETE FROM activation WHERE sae_id = $1",

  /** Bare feature rows, so activations/explanations of features the artifact did not describe satisfy the FK. */
  insertBareFeatures:
    "/* ingest_insert_bare_features */ INSERT INTO feature (sae_id, idx) SELECT $1, i FROM unnest($2::int[]) AS u(i) ON CONFLICT DO NOTHING",

  createFeatureStage:
    "/* ingest_create_feature_stage */ CREATE TEMP TABLE IF NOT EXISTS ingest_feature_stage (LIKE feature)",
  dropFeatureStage: "/* ingest_drop_feature_stage */ DROP TABLE IF EXISTS ingest_feature_stage",
  /** Merge staged rows: a NULL in the stage keeps what is stored. */
  mergeFeatureStage: `/* ingest_merge_feature_stage */
    INSERT INTO feature ${FEATURE_COLUMNS}
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
      neuron_corr_pearson = COALESCE(EXCLUDED.neuron_corr_pearson, feature.neuron_corr_pearson)`,
  truncateFeatureStage: "/* ingest_truncate_feature_stage */ DELETE FROM ingest_feature_stage",

  upsertDashboards: `/* ingest_upsert_dashboards */
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

  upsertExplanations: `/* ingest_upsert_explanations */
    INSERT INTO explanation (sae_id, feature_idx, text, method, prompt_version, explainer_model)
    SELECT $1, u.idx, u.text, u.method, u.pv, u.em
    FROM unnest($2::int[], $3::text[], $4::text[], $5::text[], $6::text[]) AS u(idx, text, method, pv, em)
    ON CONFLICT (sae_id, feature_idx, method, prompt_version, explainer_model) WHERE method <> 'human' DO UPDATE SET text = EXCLUDED.text`,

  /** The last step of a merge, inside its transaction. */
  touchSae: "/* ingest_touch_sae */ UPDATE sae SET source = $2::jsonb, updated_at = CURRENT_TIMESTAMP WHERE id = $1",
} as const;
