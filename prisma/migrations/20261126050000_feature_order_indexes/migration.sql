-- Keyset pagination of Query.features by density / max activation, largest first with
-- NULLs last, then index: an index on the negated value (ASC NULLS LAST) lets a page start
-- with a row-comparison seek, (-density, idx) > (-v, i), instead of sorting the whole SAE.
-- Expression indexes have no Prisma schema form; like the vector indexes they live only here.
CREATE INDEX "feature_sae_id_neg_density_idx_idx" ON "feature" ("sae_id", (-"density"), "idx");
CREATE INDEX "feature_sae_id_neg_max_activation_idx_idx" ON "feature" ("sae_id", (-"max_activation"), "idx");
