-- Foreign keys between SAE-partitioned tables (activation -> feature, explanation -> feature, ...)
-- move from the partitioned parents to each SAE's partitions, where they reference the same SAE's
-- partition of the other table. Every such key includes the SAE id, so the rows a partition can
-- reference all sit in its sibling: the integrity is the same. What changes is the attach of a
-- detached load: ATTACH validated a parent's key, cloned onto the new partition, by an anti-join
-- against the whole referenced parent (PostgreSQL does not prune the referenced side), a cost that
-- grew with every SAE stored. A sibling key is added and validated on the detached tables during the
-- load, against the new SAE's rows only, and ATTACH has nothing left to validate.
-- Keys from unpartitioned tables (feature_list_item -> feature) and to them (-> sae, example_image,
-- sae_family) stay on the parents.

-- The keys between partitioned tables: name, table, columns, referenced table, referenced columns.
CREATE FUNCTION monoscope_sibling_foreign_keys() RETURNS TABLE ("name" TEXT, "tbl" TEXT, "cols" TEXT, "ref" TEXT, "refcols" TEXT)
LANGUAGE sql IMMUTABLE AS $$
  VALUES ('feature_dashboard_sae_id_idx_fkey', 'feature_dashboard', '"sae_id", "idx"', 'feature', '"sae_id", "idx"'),
         ('activation_sae_id_feature_idx_fkey', 'activation', '"sae_id", "feature_idx"', 'feature', '"sae_id", "idx"'),
         ('activation_image_activation_fkey', 'activation_image', '"sae_id", "feature_idx", "ordinal"', 'activation', '"sae_id", "feature_idx", "ordinal"'),
         ('explanation_sae_id_feature_idx_fkey', 'explanation', '"sae_id", "feature_idx"', 'feature', '"sae_id", "idx"'),
         ('explanation_score_explanation_id_fkey', 'explanation_score', '"sae_id", "explanation_id"', 'explanation', '"sae_id", "id"'),
         ('explanation_embedding_explanation_id_fkey', 'explanation_embedding', '"sae_id", "explanation_id"', 'explanation', '"sae_id", "id"'),
         ('search_document_sae_id_feature_idx_fkey', 'search_document', '"sae_id", "feature_idx"', 'feature', '"sae_id", "idx"'),
         ('search_document_explanation_id_fkey', 'search_document', '"sae_id", "explanation_id"', 'explanation', '"sae_id", "id"')
$$;

-- One SAE's table of a partitioned parent: where = 'detached' (its table in the load schema),
-- 'attached' (its partition) or 'default' (the parent's DEFAULT partition; sae is ignored).
CREATE FUNCTION monoscope_sae_table(sae TEXT, tname TEXT, "where" TEXT) RETURNS TEXT
LANGUAGE plpgsql STABLE AS $$
DECLARE rel REGCLASS;
BEGIN
  rel := CASE "where"
    WHEN 'detached' THEN to_regclass(format('%I.%I', monoscope_load_schema(sae), tname))
    WHEN 'attached' THEN to_regclass(format('%I', monoscope_partition_name(tname, sae)))
    WHEN 'default' THEN to_regclass(format('%I', tname || '__default'))
  END;
  IF rel IS NULL THEN RAISE EXCEPTION 'no % table of % for SAE %', "where", tname, sae; END IF;
  RETURN rel::text;
END
$$;

-- Adds (and validates) the sibling keys of one SAE's tables that they do not have yet.
CREATE FUNCTION monoscope_add_sibling_foreign_keys(sae TEXT, "where" TEXT) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE f RECORD;
BEGIN
  FOR f IN SELECT * FROM monoscope_sibling_foreign_keys() LOOP
    CONTINUE WHEN EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = f.name AND c.conrelid = monoscope_sae_table(sae, f.tbl, "where")::regclass);
    EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I FOREIGN KEY (%s) REFERENCES %s (%s) ON DELETE CASCADE ON UPDATE CASCADE',
                   monoscope_sae_table(sae, f.tbl, "where"), f.name, f.cols, monoscope_sae_table(sae, f.ref, "where"), f.refcols);
  END LOOP;
END
$$;

-- The conversion: the parents' keys (and their clones on every partition) go, each SAE's partitions
-- and the DEFAULT partitions get sibling keys, validated against what they hold.
DO $$
DECLARE f RECORD; s RECORD;
BEGIN
  FOR f IN SELECT * FROM monoscope_sibling_foreign_keys() LOOP
    EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', f.tbl, f.name);
  END LOOP;
  PERFORM monoscope_add_sibling_foreign_keys(NULL, 'default');
  FOR s IN SELECT "id" FROM "sae" WHERE to_regclass(format('%I', monoscope_partition_name('feature', "id"))) IS NOT NULL ORDER BY "id" LOOP
    PERFORM monoscope_add_sibling_foreign_keys(s."id", 'attached');
  END LOOP;
END
$$;

-- Partitions made attached (an SAE created by an ingest that writes in place): the sibling keys
-- come with them.
CREATE OR REPLACE FUNCTION monoscope_create_sae_partitions(sae TEXT) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE t RECORD;
BEGIN
  FOR t IN SELECT * FROM monoscope_partitioned_tables() LOOP
    IF to_regclass(format('%I', monoscope_partition_name(t.name, sae))) IS NULL THEN
      EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES IN (%L)', monoscope_partition_name(t.name, sae), t.name, sae);
    END IF;
  END LOOP;
  PERFORM monoscope_add_sibling_foreign_keys(sae, 'attached');
END
$$;

-- The detached load: after its indexes, the sibling keys between its own tables, validated there
-- against the new SAE's rows alone.
CREATE OR REPLACE FUNCTION monoscope_index_sae_tables(sae TEXT, stats BOOLEAN) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE s TEXT := monoscope_load_schema(sae); t RECORD; parent REGCLASS; r RECORD;
BEGIN
  IF to_regnamespace(format('%I', s)) IS NULL THEN RAISE EXCEPTION 'SAE % has no detached tables', sae; END IF;
  PERFORM monoscope_index_sae_table(sae, 'activation', true);
  FOR t IN SELECT * FROM monoscope_partitioned_tables() LOOP
    parent := to_regclass(format('%I', t.name));
    PERFORM monoscope_index_sae_table(sae, t.name, false);
    -- Foreign keys to tables that are not partitioned by SAE (sae, example_image, sae_family): the
    -- same definition, validated here, is adopted by ATTACH without another check.
    FOR r IN SELECT con.conname, pg_get_constraintdef(con.oid) AS def FROM pg_constraint con
             WHERE con.conrelid = parent AND con.contype = 'f' AND con.conparentid = 0
             ORDER BY con.conname LOOP
      EXECUTE format('ALTER TABLE %I.%I ADD CONSTRAINT %I %s', s, t.name, r.conname, r.def);
    END LOOP;
  END LOOP;
  PERFORM monoscope_add_sibling_foreign_keys(sae, 'detached');
  IF stats THEN
    EXECUTE format('ANALYZE %I.feature (sae_id, idx, density, max_activation, neuron_index)', s);
    EXECUTE format('ANALYZE %I.activation (sae_id, feature_idx, kind)', s);
  END IF;
END
$$;
