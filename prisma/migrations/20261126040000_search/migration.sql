-- Concept search: one search document per (feature, label), and the embedders that
-- produced label vectors. Written for PostgreSQL 15 and PGlite (PG 18).

-- One row per (feature, explanation); a feature without any label gets one row with
-- explanation_id NULL so its activating text is still searchable. Rebuilt per SAE by
-- the search service (refreshSearchDocuments) when labels or activations change.
CREATE TABLE "search_document" (
    "id" BIGSERIAL NOT NULL,
    "sae_id" TEXT NOT NULL,
    "feature_idx" INTEGER NOT NULL,
    "explanation_id" BIGINT,
    "label" TEXT NOT NULL DEFAULT '',
    "label_method" TEXT,
    "label_score" DOUBLE PRECISION,
    -- The feature's most characteristic activating tokens, strongest first.
    "keywords" TEXT NOT NULL DEFAULT '',
    -- Decoded text of the feature's top activating contexts, one per line.
    "contexts" TEXT NOT NULL DEFAULT '',
    -- What trigram similarity looks at: short strings, so misspellings still match.
    "terms" TEXT GENERATED ALWAYS AS ("label" || ' ' || "keywords") STORED,
    -- Label words weigh most ('A'), activating text less ('B').
    "document" tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english'::regconfig, "label"), 'A') ||
        setweight(to_tsvector('english'::regconfig, "keywords" || ' ' || "contexts"), 'B')
    ) STORED,
    CONSTRAINT "search_document_pkey" PRIMARY KEY ("id")
);
CREATE INDEX "search_document_sae_id_feature_idx_idx" ON "search_document"("sae_id", "feature_idx");
CREATE INDEX "search_document_explanation_id_idx" ON "search_document"("explanation_id");
CREATE INDEX "search_document_document_idx" ON "search_document" USING gin ("document");
CREATE INDEX "search_document_terms_trgm_idx" ON "search_document" USING gin ("terms" gin_trgm_ops);

ALTER TABLE "search_document" ADD CONSTRAINT "search_document_sae_id_feature_idx_fkey"
    FOREIGN KEY ("sae_id", "feature_idx") REFERENCES "feature"("sae_id", "idx") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "search_document" ADD CONSTRAINT "search_document_explanation_id_fkey"
    FOREIGN KEY ("explanation_id") REFERENCES "explanation"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- The transform behind each embedder id (e.g. the offline embedder's common component),
-- stored once so that queries and labels embedded later use exactly the same one.
CREATE TABLE "search_embedder" (
    "id" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "dim" INTEGER NOT NULL,
    "params" JSONB NOT NULL DEFAULT '{}',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "search_embedder_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "search_embedder_dim_check" CHECK ("dim" > 0)
);
