-- Feature lists (named, shareable sets of features with a note each) and human labels.
-- Written for PostgreSQL 15 and PGlite; keep it free of newer syntax.

CREATE TABLE "feature_list" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "description" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "feature_list_pkey" PRIMARY KEY ("id"),
    -- The service validates first (with a message naming the field); these keep the table honest.
    CONSTRAINT "feature_list_name_check" CHECK (char_length("name") BETWEEN 1 AND 200),
    CONSTRAINT "feature_list_description_check" CHECK ("description" IS NULL OR char_length("description") <= 2000)
);
CREATE INDEX "feature_list_created_at_idx" ON "feature_list"("created_at");

-- Items carry the SAE id (not just a feature key) so that the table can later be
-- partitioned by SAE like the other per-feature tables, and so that deleting an SAE's
-- features removes its items through the foreign key.
CREATE TABLE "feature_list_item" (
    "list_id" TEXT NOT NULL,
    "sae_id" TEXT NOT NULL,
    "feature_idx" INTEGER NOT NULL,
    "note" TEXT,
    "added_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "feature_list_item_pkey" PRIMARY KEY ("list_id", "sae_id", "feature_idx"),
    CONSTRAINT "feature_list_item_note_check" CHECK ("note" IS NULL OR char_length("note") <= 2000)
);
-- Feature.lists and the cascade from feature both look items up by feature.
CREATE INDEX "feature_list_item_sae_id_feature_idx_idx" ON "feature_list_item"("sae_id", "feature_idx");

ALTER TABLE "feature_list_item" ADD CONSTRAINT "feature_list_item_list_id_fkey"
    FOREIGN KEY ("list_id") REFERENCES "feature_list"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "feature_list_item" ADD CONSTRAINT "feature_list_item_sae_id_feature_idx_fkey"
    FOREIGN KEY ("sae_id", "feature_idx") REFERENCES "feature"("sae_id", "idx") ON DELETE CASCADE ON UPDATE CASCADE;

-- Human labels: every one is kept, so the one-label-per-(feature, method, prompt, model)
-- rule that lets machine methods re-run idempotently no longer covers method 'human'.
-- Upserts of machine labels name the same predicate (ON CONFLICT ... WHERE method <> 'human').
DROP INDEX "explanation_sae_id_feature_idx_method_prompt_version_explai_key";
CREATE UNIQUE INDEX "explanation_sae_id_feature_idx_method_prompt_version_explai_key"
    ON "explanation"("sae_id", "feature_idx", "method", "prompt_version", "explainer_model")
    WHERE "method" <> 'human';
CREATE INDEX "explanation_sae_id_feature_idx_idx" ON "explanation"("sae_id", "feature_idx");
