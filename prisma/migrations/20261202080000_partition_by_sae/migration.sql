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

-- The partitioned tables and their keys, children before parents (the order partitions are dropped in).
CREATE FUNCTION monoscope_partitioned_tables() RETURNS TABLE ("name" TEXT, "key" TEXT)
LANGUAGE sql IMMUTABLE AS $$
  VALUES ('activation_image', 'sae_id'), ('activation', 'sae_id'), ('feature_dashboard', 'sae_id'),
         ('search_document', 'sae_id'), ('explanation_score', 'sae_id'), ('explanation_embedding', 'sae_id'),
         ('explanation', 'sae_id'), ('lineage_edge', 'child_sae_id'), ('feature', 'sae_id')
$$;

-- Gives one SAE its partition in every partitioned table (an ingest calls it when it creates the
-- SAE, in the same transaction as the 'loading' row, so nothing becomes visible before markReady).
-- No-op for tables that already have one.
CREATE FUNCTION monoscope_create_sae_partitions(sae TEXT) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE t RECORD;
BEGIN
  FOR t IN SELECT * FROM monoscope_partitioned_tables() LOOP
    IF to_regclass(format('%I', monoscope_partition_name(t.name, sae))) IS NULL THEN
      EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES IN (%L)', monoscope_partition_name(t.name, sae), t.name, sae);
    END IF;
  END LOOP;
END
$$;

-- Detaches and drops one SAE's partitions, children first; returns the rows each held. Rows that
-- reference them from unpartitioned tables (list items) must be gone first.
CREATE FUNCTION monoscope_drop_sae_partitions(sae TEXT) RETURNS TABLE ("table_name" TEXT, "rows" BIGINT)
LANGUAGE plpgsql AS $$
DECLARE t RECORD; part TEXT; n BIGINT;
BEGIN
  FOR t IN SELECT * FROM monoscope_partitioned_tables() LOOP
    part := monoscope_partition_name(t.name, sae);
    IF to_regclass(format('%I', part)) IS NOT NULL THEN
      EXECUTE format('SELECT count(*) FROM %I', part) INTO n;
      EXECUTE format('ALTER TABLE %I DETACH PARTITION %I', t.name, part);
      EXECUTE format('DROP TABLE %I', part);
      table_name := t.name; "rows" := n;
      RETURN NEXT;
    END IF;
  END LOOP;
END
$$;

-- Planner statistics for one SAE's feature/activation partitions after its ingest: ANALYZE of the
-- parent would sample every SAE's partitions, a cost that grows with everything stored.
-- The vector columns are skipped (slow to sample, never filtered on).
CREATE FUNCTION monoscope_analyze_sae_partitions(sae TEXT, features BOOLEAN, activations BOOLEAN) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  IF features AND to_regclass(format('%I', monoscope_partition_name('feature', sae))) IS NOT NULL THEN
    EXECUTE format('ANALYZE %I (sae_id, idx, density, max_activation, neuron_index)', monoscope_partition_name('feature', sae));
  END IF;
  IF activations AND to_regclass(format('%I', monoscope_partition_name('activation', sae))) IS NOT NULL THEN
    EXECUTE format('ANALYZE %I (sae_id, feature_idx, kind)', monoscope_partition_name('activation', sae));
  END IF;
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

ALTER TABLE "feature" RENAME TO "feature__old";
CREATE TABLE "feature" (LIKE "feature__old" INCLUDING DEFAULTS INCLUDING CONSTRAINTS) PARTITION BY LIST ("sae_id");
ALTER TABLE "feature_dashboard" RENAME TO "feature_dashboard__old";
CREATE TABLE "feature_dashboard" (LIKE "feature_dashboard__old" INCLUDING DEFAULTS INCLUDING CONSTRAINTS) PARTITION BY LIST ("sae_id");
ALTER TABLE "activation" RENAME TO "activation__old";
CREATE TABLE "activation" (LIKE "activation__old" INCLUDING DEFAULTS INCLUDING CONSTRAINTS) PARTITION BY LIST ("sae_id");
ALTER TABLE "activation_image" RENAME TO "activation_image__old";
CREATE TABLE "activation_image" (LIKE "activation_image__old" INCLUDING DEFAULTS INCLUDING CONSTRAINTS) PARTITION BY LIST ("sae_id");
ALTER TABLE "explanation" RENAME TO "explanation__old";
CREATE TABLE "explanation" (LIKE "explanation__old" INCLUDING DEFAULTS INCLUDING CONSTRAINTS) PARTITION BY LIST ("sae_id");
ALTER TABLE "explanation_score" RENAME TO "explanation_score__old";
CREATE TABLE "explanation_score" (LIKE "explanation_score__old" INCLUDING DEFAULTS INCLUDING CONSTRAINTS) PARTITION BY LIST ("sae_id");
ALTER TABLE "explanation_embedding" RENAME TO "explanation_embedding__old";
CREATE TABLE "explanation_embedding" (LIKE "explanation_embedding__old" INCLUDING DEFAULTS INCLUDING CONSTRAINTS) PARTITION BY LIST ("sae_id");
ALTER TABLE "search_document" RENAME TO "search_document__old";
CREATE TABLE "search_document" (LIKE "search_document__old" INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED) PARTITION BY LIST ("sae_id");
ALTER TABLE "lineage_edge" RENAME TO "lineage_edge__old";
CREATE TABLE "lineage_edge" (LIKE "lineage_edge__old" INCLUDING DEFAULTS INCLUDING CONSTRAINTS) PARTITION BY LIST ("child_sae_id");

CREATE TABLE "feature__default" PARTITION OF "feature" DEFAULT;
CREATE TABLE "feature_dashboard__default" PARTITION OF "feature_dashboard" DEFAULT;
CREATE TABLE "activation__default" PARTITION OF "activation" DEFAULT;
CREATE TABLE "activation_image__default" PARTITION OF "activation_image" DEFAULT;
CREATE TABLE "explanation__default" PARTITION OF "explanation" DEFAULT;
CREATE TABLE "explanation_score__default" PARTITION OF "explanation_score" DEFAULT;
CREATE TABLE "explanation_embedding__default" PARTITION OF "explanation_embedding" DEFAULT;
CREATE TABLE "search_document__default" PARTITION OF "search_document" DEFAULT;
CREATE TABLE "lineage_edge__default" PARTITION OF "lineage_edge" DEFAULT;
SELECT monoscope_create_sae_partitions("id") FROM "sae" ORDER BY "id";

INSERT INTO "feature" SELECT * FROM "feature__old";
INSERT INTO "feature_dashboard" SELECT * FROM "feature_dashboard__old";
INSERT INTO "activation" SELECT * FROM "activation__old";
INSERT INTO "activation_image" SELECT * FROM "activation_image__old";
INSERT INTO "explanation" SELECT * FROM "explanation__old";
INSERT INTO "explanation_score" SELECT * FROM "explanation_score__old";
INSERT INTO "explanation_embedding" SELECT * FROM "explanation_embedding__old";
INSERT INTO "search_document" ("id", "sae_id", "feature_idx", "explanation_id", "label", "label_method", "label_score", "keywords", "contexts")
  SELECT "id", "sae_id", "feature_idx", "explanation_id", "label", "label_method", "label_score", "keywords", "contexts" FROM "search_document__old";
INSERT INTO "lineage_edge" SELECT * FROM "lineage_edge__old";

-- The per-embedder HNSW indexes (src/db/ddl.ts) are rebuilt on the new table under the same names.
CREATE TEMP TABLE "monoscope_hnsw_defs" ON COMMIT DROP AS
  SELECT "indexname", replace("indexdef", 'explanation_embedding__old', 'explanation_embedding') AS "def"
  FROM pg_indexes WHERE "schemaname" = current_schema() AND "tablename" = 'explanation_embedding__old' AND "indexname" LIKE 'explanation_embedding_hnsw_%';

-- Old tables go children first; no CASCADE, so an unknown dependent fails the migration (rolled back).
ALTER TABLE "feature_list_item" DROP CONSTRAINT "feature_list_item_sae_id_feature_idx_fkey";
DROP TABLE "activation_image__old";
DROP TABLE "activation__old";
DROP TABLE "feature_dashboard__old";
DROP TABLE "search_document__old";
DROP TABLE "explanation_score__old";
DROP TABLE "explanation_embedding__old";
DROP TABLE "explanation__old";
DROP TABLE "lineage_edge__old";
DROP TABLE "feature__old";


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

DO $$
DECLARE d RECORD;
BEGIN
  FOR d IN SELECT "def" FROM "monoscope_hnsw_defs" LOOP EXECUTE d."def"; END LOOP;
END
$$;

ANALYZE "feature", "feature_dashboard", "activation", "activation_image", "explanation", "explanation_score",
  "explanation_embedding", "search_document", "lineage_edge";
