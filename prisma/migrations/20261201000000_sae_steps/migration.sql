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
