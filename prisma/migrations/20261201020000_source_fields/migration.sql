-- What SAEDashboard / Neuronpedia records carry, kept so `export neuronpedia` gives back the
-- imported values. Written for PostgreSQL 15 and PGlite (PG 18).

-- frac_nonzero and the quantile bins arrive as float64; REAL rounded them on the way in.
ALTER TABLE "feature" ALTER COLUMN "density" TYPE DOUBLE PRECISION;
ALTER TABLE "activation" ALTER COLUMN "bin_min" TYPE DOUBLE PRECISION;
ALTER TABLE "activation" ALTER COLUMN "bin_max" TYPE DOUBLE PRECISION;

-- The byte-level BPE strings as the source wrote them (GPT-2 "Ġbrigade"); NULL when they equal
-- the decoded tokens, so sources that ship readable tokens pay nothing.
ALTER TABLE "activation" ADD COLUMN "raw_tokens" TEXT[];
-- Per-example source fields with no column of their own, under their Neuronpedia names:
-- binContains, qualifyingTokenIndex, dfaValues, dfaMaxValue, dfaTargetIndex, and a top example's
-- binMin/binMax (its columns stay NULL: a top example is not a bin sample). Never queried.
ALTER TABLE "activation" ADD COLUMN "source_fields" JSONB;

-- SAEDashboard batches and Neuronpedia exports often do not say which architecture the SAE has
-- or whether b_dec is subtracted from the input: NULL records "not stated" instead of a guess.
-- (Importers that know, such as SAELens with its documented defaults, still write a value.)
ALTER TABLE "sae" ALTER COLUMN "architecture" DROP NOT NULL;
ALTER TABLE "sae" ALTER COLUMN "apply_b_dec_to_input" DROP NOT NULL;
