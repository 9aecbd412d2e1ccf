-- Auto-interpretation jobs: who is running a job (so a crashed run is recognised and
-- resumed) and its budget. Written for PostgreSQL 15 and PGlite (PG 18).

-- "host:pid" of the process running the job; NULL when none is.
ALTER TABLE "job" ADD COLUMN "runner" TEXT;
-- Stop cleanly once the estimated spend would exceed this (USD); NULL = no limit.
ALTER TABLE "job" ADD COLUMN "max_cost_usd" DOUBLE PRECISION;

CREATE INDEX "job_sae_id_kind_status_idx" ON "job"("sae_id", "kind", "status");
