-- Post-ingest steps as durable rows (search indexing, neighbour lists, split lineage,
-- 2-D map, neuron alignment, co-activation): recorded before an SAE turns ready (or in a
-- merge's own transaction), marked DONE when finished, so whatever a killed run left is
-- finished by a rerun of the ingest, `monoscope jobs resume` or a server start.
-- Written for PostgreSQL 15 and PGlite (PG 18).
CREATE TABLE "sae_step" (
    "sae_id" TEXT NOT NULL,
    "step" TEXT NOT NULL,
    "state" TEXT NOT NULL DEFAULT 'PENDING',
    -- Bumped each time the step is recorded again: a runner finishes only the generation it claimed.
    "generation" INTEGER NOT NULL DEFAULT 1,
    -- Recorded (again) and no progress made since: whatever partial output is stored is stale.
    "fresh" BOOLEAN NOT NULL DEFAULT true,
    "done" INTEGER NOT NULL DEFAULT 0,
    "total" INTEGER,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "error" TEXT,
    -- "host:pid" of the process running the step; NULL when none is.
    "runner" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "heartbeat_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),
    CONSTRAINT "sae_step_pkey" PRIMARY KEY ("sae_id", "step"),
    CONSTRAINT "sae_step_state_check" CHECK ("state" IN ('PENDING', 'RUNNING', 'DONE', 'FAILED'))
);
CREATE INDEX "sae_step_state_idx" ON "sae_step"("state");

ALTER TABLE "sae_step" ADD CONSTRAINT "sae_step_sae_id_fkey" FOREIGN KEY ("sae_id") REFERENCES "sae"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- SAEs ingested before this table existed whose post-ingest work an interruption left
-- unfinished: record what their stored rows show is missing, so the next run finishes it
-- (fresh = false: keep what is stored and build only the rest).
INSERT INTO "sae_step" ("sae_id", "step", "fresh")
SELECT s."id", 'neighbours', false FROM "sae" s
WHERE s."status" = 'ready'
  AND EXISTS (SELECT 1 FROM "feature" f WHERE f."sae_id" = s."id" AND f."decoder" IS NOT NULL AND f."nn_indices" IS NULL);
INSERT INTO "sae_step" ("sae_id", "step", "fresh")
SELECT s."id", 'alignment', false FROM "sae" s
WHERE s."status" = 'ready'
  AND EXISTS (SELECT 1 FROM "feature" f WHERE f."sae_id" = s."id" AND f."decoder" IS NOT NULL AND f."neuron_index" IS NULL);
-- Maps are built after ingest only up to 20,000 features (AUTO_MAP_MAX_FEATURES).
INSERT INTO "sae_step" ("sae_id", "step", "fresh")
SELECT s."id", 'umap', false FROM "sae" s
WHERE s."status" = 'ready' AND s."d_sae" <= 20000
  AND EXISTS (SELECT 1 FROM "feature" f WHERE f."sae_id" = s."id" AND f."decoder" IS NOT NULL AND f."umap_x" IS NULL);
