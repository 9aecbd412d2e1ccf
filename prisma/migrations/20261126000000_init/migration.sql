-- Monoscope initial schema. Written for PostgreSQL 15 (the oldest server supported)
-- and PGlite; keep it free of newer syntax.
CREATE EXTENSION IF NOT EXISTS vector;
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE "model" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "d_model" INTEGER NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "model_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "sae_family" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "model_id" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lineage_built_at" TIMESTAMPTZ(3),
    "lineage_stale" BOOLEAN NOT NULL DEFAULT true,
    "lineage_params" JSONB,
    CONSTRAINT "sae_family_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "sae_family_model_id_idx" ON "sae_family"("model_id");

CREATE TABLE "sae" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "model_id" TEXT NOT NULL,
    "family_id" TEXT,
    "hook_name" TEXT,
    "layer" INTEGER,
    "architecture" TEXT NOT NULL,
    "d_in" INTEGER NOT NULL,
    "d_sae" INTEGER NOT NULL,
    "dtype" TEXT,
    "k" INTEGER,
    "apply_b_dec_to_input" BOOLEAN NOT NULL DEFAULT true,
    "b_dec" REAL[],
    "neuronpedia_id" TEXT,
    "status" TEXT NOT NULL DEFAULT 'loading',
    "content_hash" TEXT,
    "source" JSONB NOT NULL DEFAULT '{}',
    "config" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "sae_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "sae_status_check" CHECK ("status" IN ('loading', 'ready')),
    CONSTRAINT "sae_dims_check" CHECK ("d_in" > 0 AND "d_sae" > 0)
);
CREATE INDEX "sae_model_id_idx" ON "sae"("model_id");
CREATE INDEX "sae_family_id_d_sae_idx" ON "sae"("family_id", "d_sae");

CREATE TABLE "feature" (
    "sae_id" TEXT NOT NULL,
    "idx" INTEGER NOT NULL,
    "decoder" halfvec,
    "decoder_norm" REAL,
    "encoder" vector,
    "b_enc" REAL,
    "threshold" REAL,
    "density" REAL,
    "max_activation" REAL,
    "neuron_index" INTEGER,
    "neuron_cosine" REAL,
    "neuron_corr_index" INTEGER,
    "neuron_corr_pearson" REAL,
    "umap_x" REAL,
    "umap_y" REAL,
    "split_kind" TEXT,
    "origin_kind" TEXT,
    "nn_indices" INTEGER[],
    "nn_cosines" REAL[],
    CONSTRAINT "feature_pkey" PRIMARY KEY ("sae_id", "idx"),
    CONSTRAINT "feature_idx_check" CHECK ("idx" >= 0)
);
CREATE INDEX "feature_sae_id_density_idx" ON "feature"("sae_id", "density");
CREATE INDEX "feature_sae_id_max_activation_idx" ON "feature"("sae_id", "max_activation");

CREATE TABLE "feature_dashboard" (
    "sae_id" TEXT NOT NULL,
    "idx" INTEGER NOT NULL,
    "pos_logits" JSONB,
    "neg_logits" JSONB,
    "freq_histogram" JSONB,
    "logits_histogram" JSONB,
    "correlated_neurons" JSONB,
    "correlated_features" JSONB,
    "neuron_alignment" JSONB,
    "extra" JSONB,
    CONSTRAINT "feature_dashboard_pkey" PRIMARY KEY ("sae_id", "idx")
);

CREATE TABLE "activation" (
    "sae_id" TEXT NOT NULL,
    "feature_idx" INTEGER NOT NULL,
    "ordinal" INTEGER NOT NULL,
    "tokens" TEXT[],
    "values" REAL[],
    "max_value" REAL NOT NULL,
    "max_token_index" INTEGER NOT NULL,
    "kind" TEXT NOT NULL DEFAULT 'top',
    "bin_min" REAL,
    "bin_max" REAL,
    "source" TEXT,
    "text" TEXT NOT NULL,
    CONSTRAINT "activation_pkey" PRIMARY KEY ("sae_id", "feature_idx", "ordinal")
);

CREATE TABLE "explanation" (
    "id" BIGSERIAL NOT NULL,
    "sae_id" TEXT NOT NULL,
    "feature_idx" INTEGER NOT NULL,
    "text" TEXT NOT NULL,
    "method" TEXT NOT NULL,
    "prompt_version" TEXT NOT NULL DEFAULT '',
    "explainer_model" TEXT NOT NULL DEFAULT '',
    "input_tokens" INTEGER,
    "output_tokens" INTEGER,
    "cost_usd" DOUBLE PRECISION,
    "job_id" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "explanation_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "explanation_sae_id_feature_idx_method_prompt_version_explai_key"
    ON "explanation"("sae_id", "feature_idx", "method", "prompt_version", "explainer_model");

CREATE TABLE "explanation_embedding" (
    "explanation_id" BIGINT NOT NULL,
    "embedder" TEXT NOT NULL,
    "dim" INTEGER NOT NULL,
    "embedding" vector NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "explanation_embedding_pkey" PRIMARY KEY ("explanation_id", "embedder")
);
CREATE INDEX "explanation_embedding_embedder_idx" ON "explanation_embedding"("embedder");

CREATE TABLE "explanation_score" (
    "id" BIGSERIAL NOT NULL,
    "explanation_id" BIGINT NOT NULL,
    "kind" TEXT NOT NULL,
    "metric" TEXT NOT NULL,
    "value" DOUBLE PRECISION NOT NULL,
    "scorer_model" TEXT NOT NULL DEFAULT '',
    "details" JSONB,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "explanation_score_pkey" PRIMARY KEY ("id")
);
CREATE UNIQUE INDEX "explanation_score_explanation_id_kind_metric_scorer_model_key"
    ON "explanation_score"("explanation_id", "kind", "metric", "scorer_model");

CREATE TABLE "lineage_edge" (
    "family_id" TEXT NOT NULL,
    "parent_sae_id" TEXT NOT NULL,
    "parent_idx" INTEGER NOT NULL,
    "child_sae_id" TEXT NOT NULL,
    "child_idx" INTEGER NOT NULL,
    "cosine" REAL NOT NULL,
    "coactivation" REAL,
    "rank" INTEGER NOT NULL,
    CONSTRAINT "lineage_edge_pkey" PRIMARY KEY ("parent_sae_id", "parent_idx", "child_sae_id", "child_idx")
);
CREATE INDEX "lineage_edge_child_sae_id_child_idx_idx" ON "lineage_edge"("child_sae_id", "child_idx");
CREATE INDEX "lineage_edge_family_id_idx" ON "lineage_edge"("family_id");

CREATE TABLE "job" (
    "id" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'QUEUED',
    "sae_id" TEXT,
    "params" JSONB NOT NULL DEFAULT '{}',
    "total" INTEGER NOT NULL DEFAULT 0,
    "done" INTEGER NOT NULL DEFAULT 0,
    "failed" INTEGER NOT NULL DEFAULT 0,
    "input_tokens" INTEGER NOT NULL DEFAULT 0,
    "output_tokens" INTEGER NOT NULL DEFAULT 0,
    "cost_usd" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "error" TEXT,
    "cancel_requested" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),
    "heartbeat_at" TIMESTAMPTZ(3),
    CONSTRAINT "job_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "job_status_check" CHECK ("status" IN ('QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'))
);
CREATE INDEX "job_status_created_at_idx" ON "job"("status", "created_at");

CREATE TABLE "job_item" (
    "job_id" TEXT NOT NULL,
    "feature_idx" INTEGER NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'PENDING',
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "error" TEXT,
    "raw_response" TEXT,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "job_item_pkey" PRIMARY KEY ("job_id", "feature_idx")
);
CREATE INDEX "job_item_job_id_status_idx" ON "job_item"("job_id", "status");

ALTER TABLE "sae_family" ADD CONSTRAINT "sae_family_model_id_fkey" FOREIGN KEY ("model_id") REFERENCES "model"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "sae" ADD CONSTRAINT "sae_model_id_fkey" FOREIGN KEY ("model_id") REFERENCES "model"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "sae" ADD CONSTRAINT "sae_family_id_fkey" FOREIGN KEY ("family_id") REFERENCES "sae_family"("id") ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "feature" ADD CONSTRAINT "feature_sae_id_fkey" FOREIGN KEY ("sae_id") REFERENCES "sae"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "feature_dashboard" ADD CONSTRAINT "feature_dashboard_sae_id_idx_fkey" FOREIGN KEY ("sae_id", "idx") REFERENCES "feature"("sae_id", "idx") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "activation" ADD CONSTRAINT "activation_sae_id_feature_idx_fkey" FOREIGN KEY ("sae_id", "feature_idx") REFERENCES "feature"("sae_id", "idx") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "explanation" ADD CONSTRAINT "explanation_sae_id_feature_idx_fkey" FOREIGN KEY ("sae_id", "feature_idx") REFERENCES "feature"("sae_id", "idx") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "explanation_embedding" ADD CONSTRAINT "explanation_embedding_explanation_id_fkey" FOREIGN KEY ("explanation_id") REFERENCES "explanation"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "explanation_score" ADD CONSTRAINT "explanation_score_explanation_id_fkey" FOREIGN KEY ("explanation_id") REFERENCES "explanation"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "lineage_edge" ADD CONSTRAINT "lineage_edge_family_id_fkey" FOREIGN KEY ("family_id") REFERENCES "sae_family"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "job" ADD CONSTRAINT "job_sae_id_fkey" FOREIGN KEY ("sae_id") REFERENCES "sae"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "job_item" ADD CONSTRAINT "job_item_job_id_fkey" FOREIGN KEY ("job_id") REFERENCES "job"("id") ON DELETE CASCADE ON UPDATE CASCADE;
