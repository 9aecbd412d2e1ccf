-- Detached load, atomic attach: an ingest of a new SAE fills standalone tables in a schema of its
-- own (monoscope_load_schema), builds their indexes after the load, then attaches all of them as
-- the SAE's partitions in the transaction that flips its status to 'ready'.
--   monoscope_prepare_sae_tables(sae): the schema and one table per partitioned table, with the
--     parent's columns, defaults, NOT NULL/CHECK constraints and a CHECK (key = sae) so ATTACH
--     needs no validation scan; the unique keys that the load's ON CONFLICT statements use (all
--     but activation's, which is COPY only).
--   monoscope_index_sae_tables(sae, stats): after the load, the rest of the parent's indexes
--     (so ATTACH adopts them instead of building them), the foreign keys to unpartitioned tables
--     (validated now, so ATTACH adopts them too) and, optionally, planner statistics.
--   monoscope_attach_sae_tables(sae): renames each table to its partition name, moves it next to
--     its parent, attaches it (parents first) and drops the schema. Foreign keys between
--     partitioned tables (activation -> feature, ...) are cloned and validated by ATTACH.
--   monoscope_drop_sae_tables(sae): drops what a failed or killed load left (no-op when none).
-- Nothing of a detached table is visible through the partitioned parents until the attach commits.

CREATE FUNCTION monoscope_load_schema(sae TEXT) RETURNS TEXT
LANGUAGE sql IMMUTABLE STRICT AS $$
  SELECT monoscope_partition_name('monoscope_load', sae)
$$;

-- An index or constraint name for a detached table that stays unique once the table moves next to
-- its parent: the partition name plus a short hash of the parent's index name (at most 63 bytes).
CREATE FUNCTION monoscope_partition_index_name(part TEXT, parent_index TEXT) RETURNS TEXT
LANGUAGE sql IMMUTABLE STRICT AS $$
  SELECT left(part, 55) || '_' || left(md5(parent_index), 7)
$$;

-- The parent's indexes on one detached table: keys = the PRIMARY KEY/UNIQUE constraints (as
-- constraints, so ATTACH matches them to the parent's) and the unique indexes, otherwise the
-- non-unique indexes. Definitions come from the catalog, so an index added to a parent later (the
-- per-embedder HNSW ones) is matched too.
CREATE FUNCTION monoscope_index_sae_table(sae TEXT, tname TEXT, keys BOOLEAN) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  s TEXT := monoscope_load_schema(sae);
  part TEXT := monoscope_partition_name(tname, sae);
  parent REGCLASS := to_regclass(format('%I', tname));
  r RECORD; stmt TEXT;
BEGIN
  IF parent IS NULL THEN RAISE EXCEPTION 'no table %', tname; END IF;
  IF keys THEN
    FOR r IN SELECT con.conname, pg_get_constraintdef(con.oid) AS def FROM pg_constraint con
             WHERE con.conrelid = parent AND con.contype IN ('p', 'u') AND con.conparentid = 0 ORDER BY con.conname LOOP
      EXECUTE format('ALTER TABLE %I.%I ADD CONSTRAINT %I %s', s, tname, monoscope_partition_index_name(part, r.conname), r.def);
    END LOOP;
  END IF;
  FOR r IN SELECT ic.relname, pg_get_indexdef(i.indexrelid) AS def FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
             WHERE i.indrelid = parent AND i.indisunique = keys
               AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = i.indexrelid AND con.conrelid = parent)
             ORDER BY ic.relname LOOP
      stmt := regexp_replace(r.def, '^CREATE (UNIQUE )?INDEX \S+ ON ONLY \S+ USING ',
                             format('CREATE \1INDEX %I ON %I.%I USING ', monoscope_partition_index_name(part, r.relname), s, tname));
      IF stmt = r.def THEN RAISE EXCEPTION 'unexpected definition of index %: %', r.relname, r.def; END IF;
      EXECUTE stmt;
  END LOOP;
END
$$;

CREATE FUNCTION monoscope_drop_sae_tables(sae TEXT) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('DROP SCHEMA IF EXISTS %I CASCADE', monoscope_load_schema(sae));
END
$$;

CREATE FUNCTION monoscope_prepare_sae_tables(sae TEXT) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE s TEXT := monoscope_load_schema(sae); t RECORD; parent REGCLASS;
BEGIN
  PERFORM monoscope_drop_sae_tables(sae);
  EXECUTE format('CREATE SCHEMA %I', s);
  FOR t IN SELECT * FROM monoscope_partitioned_tables() LOOP
    parent := to_regclass(format('%I', t.name));
    IF to_regclass(format('%I', monoscope_partition_name(t.name, sae))) IS NOT NULL THEN
      RAISE EXCEPTION 'SAE % already has a partition of %', sae, t.name;
    END IF;
    EXECUTE format('CREATE TABLE %I.%I (LIKE %s INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING GENERATED, '
                   'CONSTRAINT monoscope_load_key CHECK (%I IS NOT NULL AND %I = %L))', s, t.name, parent, t.key, t.key, sae);
    IF t.name <> 'activation' THEN PERFORM monoscope_index_sae_table(sae, t.name, true); END IF;
  END LOOP;
END
$$;

CREATE FUNCTION monoscope_index_sae_tables(sae TEXT, stats BOOLEAN) RETURNS void
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
               AND NOT EXISTS (SELECT 1 FROM monoscope_partitioned_tables() p WHERE to_regclass(format('%I', p.name)) = con.confrelid)
             ORDER BY con.conname LOOP
      EXECUTE format('ALTER TABLE %I.%I ADD CONSTRAINT %I %s', s, t.name, r.conname, r.def);
    END LOOP;
  END LOOP;
  IF stats THEN
    EXECUTE format('ANALYZE %I.feature (sae_id, idx, density, max_activation, neuron_index)', s);
    EXECUTE format('ANALYZE %I.activation (sae_id, feature_idx, kind)', s);
  END IF;
END
$$;

CREATE FUNCTION monoscope_attach_sae_tables(sae TEXT) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE s TEXT := monoscope_load_schema(sae); t RECORD; parent REGCLASS; ns TEXT; part TEXT;
BEGIN
  IF to_regnamespace(format('%I', s)) IS NULL THEN RAISE EXCEPTION 'SAE % has no detached tables', sae; END IF;
  -- Every lock that readers could hold first, before anything changes: the parents (against other
  -- DDL) and their DEFAULT partitions (ATTACH checks them). A caller that sets lock_timeout never
  -- waits on a reader while holding a lock that reader needs next.
  FOR t IN SELECT * FROM monoscope_partitioned_tables() LOOP
    EXECUTE format('LOCK TABLE %I IN SHARE UPDATE EXCLUSIVE MODE', t.name);
  END LOOP;
  FOR t IN SELECT c.oid::regclass::text AS rel FROM monoscope_partitioned_tables() p JOIN pg_inherits i ON i.inhparent = to_regclass(format('%I', p.name))
           JOIN pg_class c ON c.oid = i.inhrelid WHERE pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT' LOOP
    EXECUTE format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE', t.rel);
  END LOOP;
  -- Parents before children (the list is children first), so each cloned foreign key finds its rows.
  FOR t IN SELECT p.* FROM monoscope_partitioned_tables() WITH ORDINALITY AS p("name", "key", n) ORDER BY p.n DESC LOOP
    parent := to_regclass(format('%I', t.name));
    SELECT n.nspname INTO ns FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = parent;
    part := monoscope_partition_name(t.name, sae);
    EXECUTE format('ALTER TABLE %I.%I RENAME TO %I', s, t.name, part);
    EXECUTE format('ALTER TABLE %I.%I SET SCHEMA %I', s, part, ns);
    EXECUTE format('ALTER TABLE %s ATTACH PARTITION %I.%I FOR VALUES IN (%L)', parent, ns, part, sae);
    EXECUTE format('ALTER TABLE %I.%I DROP CONSTRAINT monoscope_load_key', ns, part);
  END LOOP;
  EXECUTE format('DROP SCHEMA %I', s);
END
$$;
