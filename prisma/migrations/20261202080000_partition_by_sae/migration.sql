-- Partition the per-SAE tables by SAE (PARTITION BY LIST), converting an existing database in place.
-- Partition keys:
--   feature, feature_dashboard, activation, activation_image, explanation, search_document: sae_id
--   explanation_score, explanation_embedding: sae_id, a new column copied from their explanation,
--     so they partition with their explanations (their FK becomes (sae_id, explanation_id))
--   lineage_edge: child_sae_id (an edge belongs to the child's SAE; the parent side is cleaned by deleteSae)
-- Left unpartitioned: example_image (content-addressed, shared across SAEs), feature_list_item
-- (per list), sae_step and job (a few rows per SAE), graph_node/graph_link (per graph).
-- Every SAE gets one partition per table, named by monoscope_partition_name(); a DEFAULT partition per
-- table catches rows written outside an ingest (tests, tools) so no write fails for lack of a partition.
-- Primary and unique keys gain the partition key where they lacked it (PostgreSQL requires it).

-- A partition name that is a safe identifier for any SAE id: table, sanitised id, short hash.
CREATE FUNCTION monoscope_partition_name(parent TEXT, sae_id TEXT) RETURNS TEXT
LANGUAGE sql IMMUTABLE STRICT AS $$
  SELECT parent || '__' || left(regexp_replace(lower(sae_id), '[^a-z0-9]+', '_', 'g'), 24) || '_' || left(md5(sae_id), 8)
$$;

-- Creates the DEFAULT partition and one partition per existing SAE of a partitioned table.
CREATE FUNCTION monoscope_create_sae_partitions(parent TEXT, final_name TEXT) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE s RECORD;
BEGIN
  EXECUTE format('CREATE TABLE %I PARTITION OF %I DEFAULT', final_name || '__default', parent);
  FOR s IN SELECT id FROM sae ORDER BY id LOOP
    EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES IN (%L)', monoscope_partition_name(final_name, s.id), parent, s.id);
  END LOOP;
END
$$;

ALTER TABLE "explanation_score" ADD COLUMN "sae_id" TEXT;
UPDATE "explanation_score" s SET "sae_id" = e."sae_id" FROM "explanation" e WHERE e."id" = s."explanation_id";
ALTER TABLE "explanation_score" ALTER COLUMN "sae_id" SET NOT NULL;
ALTER TABLE "explanation_embedding" ADD COLUMN "sae_id" TEXT;
UPDATE "explanation_embedding" m SET "sae_id" = e."sae_id" FROM "explanation" e WHERE e."id" = m."explanation_id";
ALTER TABLE "explanation_embedding" ALTER COLUMN "sae_id" SET NOT NULL;

-- The serial sequences outlive the old tables.
ALTER SEQUENCE "explanation_id_seq" OWNED BY NONE;
ALTER SEQUENCE "explanation_score_id_seq" OWNED BY NONE;
ALTER SEQUENCE "search_document_id_seq" OWNED BY NONE;

CREATE TABLE "feature__p" (LIKE "feature" INCLUDING DEFAULTS INCLUDING CONSTRAINTS) PARTITION BY LIST ("sae_id");
CREATE TABLE "feature_dashboard__p" (LIKE "feature_dashboard" INCLUDING DEFAULTS INCLUDING CONSTRAINTS) PARTITION BY LIST ("sae_id");
CREATE TABLE "activation__p" (LIKE "activation" INCLUDING DEFAULTS INCLUDING CONSTRAINTS) PARTITION BY LIST ("sae_id");
CREATE TABLE "activation_image__p" (LIKE "activation_image" INCLUDING DEFAULTS INCLUDING CONSTRAINTS) PARTITION BY LIST ("sae_id");
CREATE TABLE "explanation__p" (LIKE "explanation" INCLUDING DEFAULTS INCLUDING CONSTRAINTS) PARTITION BY LIST ("sae_id");
CREATE TABLE "explanation_score__p" (LIKE "explanation_score" INCLUDING DEFAULTS INCLUDING CONSTRAINTS) PARTITION BY LIST ("sae_id");
CREATE TABLE "explanation_embedding__p" (LIKE "explanation_embedding" INCLUDING DEFAULTS INCLUDING CONSTRAINTS) PARTITION BY LIST ("sae_id");
CREATE TABLE "search_document__p" (LIKE "search_document" INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED) PARTITION BY LIST ("sae_id");
CREATE TABLE "lineage_edge__p" (LIKE "lineage_edge" INCLUDING DEFAULTS INCLUDING CONSTRAINTS) PARTITION BY LIST ("child_sae_id");

SELECT monoscope_create_sae_partitions('feature__p', 'feature');
SELECT monoscope_create_sae_partitions('feature_dashboard__p', 'feature_dashboard');
SELECT monoscope_create_sae_partitions('activation__p', 'activation');
SELECT monoscope_create_sae_partitions('activation_image__p', 'activation_image');
SELECT monoscope_create_sae_partitions('explanation__p', 'explanation');
SELECT monoscope_create_sae_partitions('explanation_score__p', 'explanation_score');
SELECT monoscope_create_sae_partitions('explanation_embedding__p', 'explanation_embedding');
SELECT monoscope_create_sae_partitions('search_document__p', 'search_document');
SELECT monoscope_create_sae_partitions('lineage_edge__p', 'lineage_edge');
DROP FUNCTION monoscope_create_sae_partitions(TEXT, TEXT);

INSERT INTO "feature__p" SELECT * FROM "feature";
INSERT INTO "feature_dashboard__p" SELECT * FROM "feature_dashboard";
INSERT INTO "activation__p" SELECT * FROM "activation";
INSERT INTO "activation_image__p" SELECT * FROM "activation_image";
INSERT INTO "explanation__p" SELECT * FROM "explanation";
INSERT INTO "explanation_score__p" SELECT * FROM "explanation_score";
INSERT INTO "explanation_embedding__p" SELECT * FROM "explanation_embedding";
INSERT INTO "search_document__p" ("id", "sae_id", "feature_idx", "explanation_id", "label", "label_method", "label_score", "keywords", "contexts")
  SELECT "id", "sae_id", "feature_idx", "explanation_id", "label", "label_method", "label_score", "keywords", "contexts" FROM "search_document";
INSERT INTO "lineage_edge__p" SELECT * FROM "lineage_edge";

-- Old tables go children first; no CASCADE, so an unknown dependent fails the migration (rolled back).
ALTER TABLE "feature_list_item" DROP CONSTRAINT "feature_list_item_sae_id_feature_idx_fkey";
DROP TABLE "activation_image";
DROP TABLE "activation";
DROP TABLE "feature_dashboard";
DROP TABLE "search_document";
DROP TABLE "explanation_score";
DROP TABLE "explanation_embedding";
DROP TABLE "explanation";
DROP TABLE "lineage_edge";
DROP TABLE "feature";

ALTER TABLE "feature__p" RENAME TO "feature";
ALTER TABLE "feature_dashboard__p" RENAME TO "feature_dashboard";
ALTER TABLE "activation__p" RENAME TO "activation";
ALTER TABLE "activation_image__p" RENAME TO "activation_image";
ALTER TABLE "explanation__p" RENAME TO "explanation";
ALTER TABLE "explanation_score__p" RENAME TO "explanation_score";
ALTER TABLE "explanation_embedding__p" RENAME TO "explanation_embedding";
ALTER TABLE "search_document__p" RENAME TO "search_document";
ALTER TABLE "lineage_edge__p" RENAME TO "lineage_edge";

ALTER SEQUENCE "explanation_id_seq" OWNED BY "explanation"."id";
ALTER SEQUENCE "explanation_score_id_seq" OWNED BY "explanation_score"."id";
ALTER SEQUENCE "search_document_id_seq" OWNED BY "search_document"."id";

ALTER TABLE "feature" ADD CONSTRAINT "feature_pkey" PRIMARY KEY ("sae_id", "idx");
CREATE INDEX "feature_sae_id_density_idx" ON "feature"("sae_id", "density");
CREATE INDEX "feature_sae_id_max_activation_idx" ON "feature"("sae_id", "max_activation");
CREATE INDEX "feature_sae_id_neg_density_idx_idx" ON "feature" ("sae_id", (-"density"), "idx");
CREATE INDEX "feature_sae_id_neg_max_activation_idx_idx" ON "feature" ("sae_id", (-"max_activation"), "idx");

ALTER TABLE "feature_dashboard" ADD CONSTRAINT "feature_dashboard_pkey" PRIMARY KEY ("sae_id", "idx");
ALTER TABLE "activation" ADD CONSTRAINT "activation_pkey" PRIMARY KEY ("sae_id", "feature_idx", "ordinal");
ALTER TABLE "activation_image" ADD CONSTRAINT "activation_image_pkey" PRIMARY KEY ("sae_id", "feature_idx", "ordinal");
CREATE INDEX "activation_image_image_sha256_idx" ON "activation_image"("image_sha256");

-- Explanation ids stay globally unique (one sequence); the key adds the SAE, and a plain index on
-- id keeps lookups by id alone cheap.
ALTER TABLE "explanation" ADD CONSTRAINT "explanation_pkey" PRIMARY KEY ("sae_id", "id");
CREATE INDEX "explanation_id_idx" ON "explanation"("id");
CREATE UNIQUE INDEX "explanation_sae_id_feature_idx_method_prompt_version_explai_key"
    ON "explanation"("sae_id", "feature_idx", "method", "prompt_version", "explainer_model")
    WHERE "method" <> 'human';
CREATE INDEX "explanation_sae_id_feature_idx_idx" ON "explanation"("sae_id", "feature_idx");

ALTER TABLE "explanation_score" ADD CONSTRAINT "explanation_score_pkey" PRIMARY KEY ("sae_id", "id");
CREATE UNIQUE INDEX "explanation_score_explanation_id_kind_metric_scorer_model_key"
    ON "explanation_score"("sae_id", "explanation_id", "kind", "metric", "scorer_model");

ALTER TABLE "explanation_embedding" ADD CONSTRAINT "explanation_embedding_pkey" PRIMARY KEY ("sae_id", "explanation_id", "embedder");
CREATE INDEX "explanation_embedding_embedder_idx" ON "explanation_embedding"("embedder");

ALTER TABLE "search_document" ADD CONSTRAINT "search_document_pkey" PRIMARY KEY ("sae_id", "id");
CREATE INDEX "search_document_sae_id_feature_idx_idx" ON "search_document"("sae_id", "feature_idx");
CREATE INDEX "search_document_explanation_id_idx" ON "search_document"("explanation_id");
CREATE INDEX "search_document_document_idx" ON "search_document" USING gin ("document");
CREATE INDEX "search_document_terms_trgm_idx" ON "search_document" USING gin ("terms" gin_trgm_ops);

ALTER TABLE "lineage_edge" ADD CONSTRAINT "lineage_edge_pkey" PRIMARY KEY ("parent_sae_id", "parent_idx", "child_sae_id", "child_idx");
CREATE INDEX "lineage_edge_child_sae_id_child_idx_idx" ON "lineage_edge"("child_sae_id", "child_idx");
CREATE INDEX "lineage_edge_family_id_idx" ON "lineage_edge"("family_id");

ALTER TABLE "feature" ADD CONSTRAINT "feature_sae_id_fkey" FOREIGN KEY ("sae_id") REFERENCES "sae"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "feature_dashboard" ADD CONSTRAINT "feature_dashboard_sae_id_idx_fkey" FOREIGN KEY ("sae_id", "idx") REFERENCES "feature"("sae_id", "idx") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "activation" ADD CONSTRAINT "activation_sae_id_feature_idx_fkey" FOREIGN KEY ("sae_id", "feature_idx") REFERENCES "feature"("sae_id", "idx") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "activation_image" ADD CONSTRAINT "activation_image_activation_fkey"
    FOREIGN KEY ("sae_id", "feature_idx", "ordinal") REFERENCES "activation"("sae_id", "feature_idx", "ordinal") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "activation_image" ADD CONSTRAINT "activation_image_image_sha256_fkey"
    FOREIGN KEY ("image_sha256") REFERENCES "example_image"("sha256") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "explanation" ADD CONSTRAINT "explanation_sae_id_feature_idx_fkey" FOREIGN KEY ("sae_id", "feature_idx") REFERENCES "feature"("sae_id", "idx") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "explanation_score" ADD CONSTRAINT "explanation_score_explanation_id_fkey"
    FOREIGN KEY ("sae_id", "explanation_id") REFERENCES "explanation"("sae_id", "id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "explanation_embedding" ADD CONSTRAINT "explanation_embedding_explanation_id_fkey"
    FOREIGN KEY ("sae_id", "explanation_id") REFERENCES "explanation"("sae_id", "id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "search_document" ADD CONSTRAINT "search_document_sae_id_feature_idx_fkey"
    FOREIGN KEY ("sae_id", "feature_idx") REFERENCES "feature"("sae_id", "idx") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "search_document" ADD CONSTRAINT "search_document_explanation_id_fkey"
    FOREIGN KEY ("sae_id", "explanation_id") REFERENCES "explanation"("sae_id", "id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "lineage_edge" ADD CONSTRAINT "lineage_edge_family_id_fkey" FOREIGN KEY ("family_id") REFERENCES "sae_family"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "feature_list_item" ADD CONSTRAINT "feature_list_item_sae_id_feature_idx_fkey"
    FOREIGN KEY ("sae_id", "feature_idx") REFERENCES "feature"("sae_id", "idx") ON DELETE CASCADE ON UPDATE CASCADE;

ANALYZE "feature", "feature_dashboard", "activation", "activation_image", "explanation", "explanation_score",
  "explanation_embedding", "search_document", "lineage_edge";
