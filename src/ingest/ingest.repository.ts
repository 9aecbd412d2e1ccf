// The relational rows of the write path (model, family, SAE) and the set-based deletes
// that remove an SAE with everything hanging off it, as statements on the raw-driver path
// (the bulk rows themselves go through bulk/bulk.repository.ts).
import { z } from "zod";
import type { Database } from "../db/database.ts";
import { firstRow, onlyRow, parseRows } from "../db/rows.ts";

export interface SaeRow {
  id: string;
  modelId: string;
  familyId: string | null;
  status: string;
  contentHash: string | null;
  dIn: number;
  dSae: number;
  source: Record<string, unknown>;
  /** What merges added (source.imports), oldest first. */
  imports: ImportRecord[];
}

/** One merge recorded in sae.source.imports (more keys are kept as they are). */
const ImportRecord = z.looseObject({ contentHash: z.string().optional(), format: z.string().optional() });
export type ImportRecord = z.infer<typeof ImportRecord>;
const SourceJson = z.record(z.string(), z.unknown()).nullable();
const Imports = z.array(ImportRecord);

export interface NewSae {
  id: string;
  name: string;
  modelId: string;
  familyId: string | null;
  hookName: string | null;
  layer: number | null;
  architecture: string | null;
  dIn: number;
  dSae: number;
  dtype: string | null;
  k: number | null;
  applyBDecToInput: boolean | null;
  bDec: number[];
  neuronpediaId: string | null;
  contentHash: string;
  source: Record<string, unknown>;
  config: Record<string, unknown>;
}

/** Rows removed per table by deleting an SAE. */
export type DeletedCounts = Record<string, number>;

const ModelRow = z.object({ id: z.string(), dModel: z.number().int() });
const FamilyRow = z.object({ id: z.string(), modelId: z.string() });
const SaeStateRow = z.object({
  id: z.string(),
  modelId: z.string(),
  familyId: z.string().nullable(),
  status: z.string(),
  contentHash: z.string().nullable(),
  dIn: z.number().int(),
  dSae: z.number().int(),
  source: z.unknown(),
});
/** How long the attach waits for one lock before it rolls back and tries again, and how often. */
const ATTACH_LOCK_MS = 200;
const ATTACH_ATTEMPTS = 200;
const FamilyOfRow = z.object({ familyId: z.string().nullable() });
const DroppedRow = z.object({ table_name: z.string(), n: z.number().int() });
const StatusRow = z.object({ status: z.string() });
const DeletingRow = z.object({ id: z.string(), dueInMs: z.number() });
const n = z.number().int();
const CountsRow = z.object({
  explanation_score: n, explanation_embedding: n, search_document: n, explanation: n, activation_image: n, activation: n,
  feature_dashboard: n, lineage_edge: n, job: n, feature: n, sae: n, example_image: n,
});

export class IngestRepository {
  constructor(private readonly db: Database) {}

  async findModel(id: string): Promise<{ id: string; dModel: number } | null> {
    return firstRow(ModelRow, await this.db.sql`/* ingest.findModel */ SELECT id, d_model AS "dModel" FROM model WHERE id = ${id}`);
  }

  async findFamily(id: string): Promise<{ id: string; modelId: string } | null> {
    return firstRow(FamilyRow, await this.db.sql`/* ingest.findFamily */ SELECT id, model_id AS "modelId" FROM sae_family WHERE id = ${id}`);
  }

  async findSae(id: string): Promise<SaeRow | null> {
    const s = firstRow(
      SaeStateRow,
      await this.db.sql`/* ingest.findSae */
        SELECT id, model_id AS "modelId", family_id AS "familyId", status, content_hash AS "contentHash",
               d_in AS "dIn", d_sae AS "dSae", source
        FROM sae WHERE id = ${id}`,
    );
    if (!s) return null;
    const source = SourceJson.parse(s.source) ?? {};
    const imports = Imports.safeParse(source.imports);
    return { ...s, source, imports: imports.success ? imports.data : [] };
  }

  /** Creates what is missing and the SAE row in status 'loading' (invisible), in one transaction. */
  async createLoadingSae(
    model: { id: string; name: string; dModel: number } | null,
    family: { id: string; name: string; modelId: string } | null,
    sae: NewSae,
  ): Promise<void> {
    await this.db.sqlTransaction(async (tx) => {
      if (model) await tx.run`/* ingest.createModel */ INSERT INTO model (id, name, d_model) VALUES (${model.id}, ${model.name}, ${model.dModel})`;
      if (family) {
        await tx.run`/* ingest.createFamily */ INSERT INTO sae_family (id, name, model_id) VALUES (${family.id}, ${family.name}, ${family.modelId})`;
      }
      await tx.run`/* ingest.createSae */
        INSERT INTO sae (id, name, model_id, family_id, hook_name, layer, architecture, d_in, d_sae, dtype, k,
                         apply_b_dec_to_input, b_dec, neuronpedia_id, status, content_hash, source, config)
        VALUES (${sae.id}, ${sae.name}, ${sae.modelId}, ${sae.familyId}, ${sae.hookName}, ${sae.layer}::int, ${sae.architecture},
                ${sae.dIn}::int, ${sae.dSae}::int, ${sae.dtype}, ${sae.k}::int, ${sae.applyBDecToInput}::boolean, ${sae.bDec}::real[],
                ${sae.neuronpediaId}, 'loading', ${sae.contentHash}, ${JSON.stringify(sae.source)}::jsonb, ${JSON.stringify(sae.config)}::jsonb)`;
      // The SAE's detached tables (schema monoscope_load_schema(id)): the load fills them, and
      // markReady attaches them as its partitions; until then no reader of the partitioned
      // tables sees a row of them, and a failed or killed ingest leaves only them (dropSae drops them).
      await tx.run`/* ingest.prepareDetached */ SELECT monoscope_prepare_sae_tables(${sae.id}) IS NULL`;
    });
  }

  /**
   * After the load: the detached tables get the rest of their parents' indexes (built once over
   * all rows, not maintained row by row) and their foreign keys to unpartitioned tables
   * (validated now, outside the attach); analyze: planner statistics too.
   */
  async indexDetached(id: string, analyze: boolean): Promise<void> {
    await this.db.run`/* ingest.indexDetached */ SELECT monoscope_index_sae_tables(${id}, ${analyze}::boolean) IS NULL`;
  }

  /**
   * The flip that makes a new SAE visible: its detached tables become its partitions and its
   * status turns 'ready' in one transaction, so a reader sees either nothing or all of it.
   * Its family's lineage must be rebuilt.
   */
  async attachAndMarkReady(id: string, familyId: string | null): Promise<void> {
    // The attach takes ACCESS EXCLUSIVE locks on the parents' DEFAULT partitions, which readers
    // take (ACCESS SHARE) in whatever order their plans visit tables. Waiting for a reader while
    // holding such a lock could deadlock with it, so a lock not granted at once rolls the attach
    // back and it tries again a moment later: readers wait at most ATTACH_LOCK_MS for it.
    for (let attempt = 1; ; attempt++) {
      try {
        await this.attachOnce(id, familyId);
        return;
      } catch (e) {
        const code = (e as { code?: unknown }).code;
        if ((code !== "55P03" && code !== "40P01") || attempt >= ATTACH_ATTEMPTS) throw e;
        await new Promise((r) => setTimeout(r, Math.min(1000, 20 * attempt) * (0.5 + Math.random())));
      }
    }
  }

  private async attachOnce(id: string, familyId: string | null): Promise<void> {
    await this.db.sqlTransaction(async (tx) => {
      if (this.db.backend === "postgres") await tx.run`/* ingest.attachLockTimeout */ SELECT set_config('lock_timeout', ${`${ATTACH_LOCK_MS}ms`}, true)`;
      await tx.run`/* ingest.attachDetached */ SELECT monoscope_attach_sae_tables(${id}) IS NULL`;
      const n = await tx.run`/* ingest.markReady */
        UPDATE sae SET status = 'ready', updated_at = CURRENT_TIMESTAMP WHERE id = ${id} AND status = 'loading'`;
      if (n !== 1) throw new Error(`invariant failed: SAE ${id} was not loading at the end of its ingest`);
      if (familyId) await tx.run`/* ingest.familyStale */ UPDATE sae_family SET lineage_stale = true WHERE id = ${familyId}`;
    });
  }

  /** Planner statistics for this SAE's partitions after a bulk load (vector columns skipped). */
  async analyze(saeId: string, tables: { features: boolean; activations: boolean }): Promise<void> {
    if (!tables.features && !tables.activations) return;
    await this.db.run`/* ingest_analyze */
      SELECT monoscope_analyze_sae_partitions(${saeId}, ${tables.features}::boolean, ${tables.activations}::boolean) IS NULL`;
  }

  /**
   * The soft delete: a ready SAE turns 'deleting' (every read path that resolves an SAE or a
   * feature filters on status = 'ready', so new requests no longer find it) and its rows stay
   * until dropSae, after the grace period. Returns the rows the drop will remove, counted now (what
   * deleteSae answers), or null when there is no ready SAE of that id (none, or already deleting).
   * A loading SAE was never visible: it is dropped at once.
   */
  async markDeleting(id: string): Promise<DeletedCounts | null> {
    const status = await this.db.sqlTransaction(async (tx) => {
      const row = firstRow(StatusRow, await tx.sql`/* rm_mark_find */ SELECT status FROM sae WHERE id = ${id} FOR UPDATE`);
      if (row?.status !== "ready") return row?.status ?? null;
      await tx.run`/* rm_mark_deleting */ UPDATE sae SET status = 'deleting', updated_at = CURRENT_TIMESTAMP WHERE id = ${id}`;
      return "ready";
    });
    if (status === "loading") return this.dropSae(id);
    if (status !== "ready") return null;
    return this.countRows(id);
  }

  /** The rows dropSae would remove for this SAE (one statement; the SAE's rows no longer change once it is deleting). */
  private async countRows(id: string): Promise<DeletedCounts> {
    const row = onlyRow(CountsRow, await this.db.sql`/* rm_count */
      SELECT (SELECT count(*) FROM explanation_score WHERE sae_id = ${id})::int AS explanation_score,
             (SELECT count(*) FROM explanation_embedding WHERE sae_id = ${id})::int AS explanation_embedding,
             (SELECT count(*) FROM search_document WHERE sae_id = ${id})::int AS search_document,
             (SELECT count(*) FROM explanation WHERE sae_id = ${id})::int AS explanation,
             (SELECT count(*) FROM activation_image WHERE sae_id = ${id})::int AS activation_image,
             (SELECT count(*) FROM activation WHERE sae_id = ${id})::int AS activation,
             (SELECT count(*) FROM feature_dashboard WHERE sae_id = ${id})::int AS feature_dashboard,
             (SELECT count(*) FROM lineage_edge WHERE parent_sae_id = ${id} OR child_sae_id = ${id})::int AS lineage_edge,
             (SELECT count(*) FROM job WHERE sae_id = ${id})::int AS job,
             (SELECT count(*) FROM feature WHERE sae_id = ${id})::int AS feature,
             (SELECT count(*) FROM sae WHERE id = ${id})::int AS sae,
             (SELECT count(*) FROM example_image i
               WHERE EXISTS (SELECT 1 FROM activation_image a WHERE a.image_sha256 = i.sha256 AND a.sae_id = ${id})
                 AND NOT EXISTS (SELECT 1 FROM activation_image a WHERE a.image_sha256 = i.sha256 AND a.sae_id <> ${id}))::int AS example_image`);
    return { ...row };
  }

  /** The deleting SAEs, each with the milliseconds left (by the database's clock) until its grace of graceMs has passed (<= 0: due). */
  async deleting(graceMs: number): Promise<{ id: string; dueInMs: number }[]> {
    return parseRows(DeletingRow, await this.db.sql`/* rm_deleting */
      SELECT id, (EXTRACT(EPOCH FROM (updated_at - CURRENT_TIMESTAMP)) * 1000 + ${graceMs}::float8)::float8 AS "dueInMs"
      FROM sae WHERE status = 'deleting' ORDER BY updated_at, id`);
  }

  /**
   * Drops an SAE (any status) and everything that refers to it, in one transaction: its
   * partitions are detached and dropped (no per-row work), then rows outside them (the DEFAULT
   * partitions, lineage edges of other SAEs' partitions whose parent it is) are deleted set-based.
   * Readers that still hold it see its rows vanish: a ready SAE goes through markDeleting and
   * the grace period first.
   */
  async dropSae(id: string, onlyIfStatus: "deleting" | null = null, opts: { lockTimeoutMs?: number } = {}): Promise<DeletedCounts | null> {
    return this.db.sqlTransaction(async (tx) => {
      // A background drop gives way to readers: the detach takes ACCESS EXCLUSIVE locks that a
      // reader's plan may wait for in another order; a lock not granted in time rolls it back
      // (55P03) before the deadlock detector could pick a reader as its victim.
      if (opts.lockTimeoutMs && this.db.backend === "postgres") {
        await tx.run`/* rm_lock_timeout */ SELECT set_config('lock_timeout', ${`${opts.lockTimeoutMs}ms`}, true)`;
      }
      const sae = firstRow(FamilyOfRow, await tx.sql`/* rm_find_sae */
        SELECT family_id AS "familyId" FROM sae WHERE id = ${id} AND (${onlyIfStatus}::text IS NULL OR status = ${onlyIfStatus}::text) FOR UPDATE`);
      if (!sae) return null;
      const counts: DeletedCounts = {};
      // What an interrupted load left detached (nothing once it is attached).
      await tx.run`/* rm_detached */ SELECT monoscope_drop_sae_tables(${id}) IS NULL`;
      // List items reference the feature partition, so they go before it.
      await tx.run`/* rm_feature_list_item */ DELETE FROM feature_list_item WHERE sae_id = ${id}`;
      const dropped = parseRows(DroppedRow, await tx.sql`/* rm_partitions */ SELECT table_name, "rows"::int AS n FROM monoscope_drop_sae_partitions(${id})`);
      const inPartition = new Map(dropped.map((d) => [d.table_name, d.n]));
      const plus = (table: string, n: number) => (inPartition.get(table) ?? 0) + n;
      counts.explanation_score = plus("explanation_score", await tx.run`/* rm_explanation_score */
        DELETE FROM explanation_score WHERE sae_id = ${id}`);
      counts.explanation_embedding = plus("explanation_embedding", await tx.run`/* rm_explanation_embedding */
        DELETE FROM explanation_embedding WHERE sae_id = ${id}`);
      counts.search_document = plus("search_document", await tx.run`/* rm_search_document */ DELETE FROM search_document WHERE sae_id = ${id}`);
      counts.explanation = plus("explanation", await tx.run`/* rm_explanation */ DELETE FROM explanation WHERE sae_id = ${id}`);
      counts.activation_image = plus("activation_image", await tx.run`/* rm_activation_image */ DELETE FROM activation_image WHERE sae_id = ${id}`);
      counts.activation = plus("activation", await tx.run`/* rm_activation */ DELETE FROM activation WHERE sae_id = ${id}`);
      counts.feature_dashboard = plus("feature_dashboard", await tx.run`/* rm_feature_dashboard */ DELETE FROM feature_dashboard WHERE sae_id = ${id}`);
      counts.lineage_edge = plus("lineage_edge", await tx.run`/* rm_lineage_edge */
        DELETE FROM lineage_edge WHERE parent_sae_id = ${id} OR child_sae_id = ${id}`);
      counts.job = await tx.run`/* rm_job */ DELETE FROM job WHERE sae_id = ${id}`;
      counts.feature = plus("feature", await tx.run`/* rm_feature */ DELETE FROM feature WHERE sae_id = ${id}`);
      counts.sae = await tx.run`/* rm_sae */ DELETE FROM sae WHERE id = ${id}`;
      // Images are shared by content: only those no other SAE's examples show go.
      counts.example_image = await tx.run`/* rm_example_image */
        DELETE FROM example_image i WHERE NOT EXISTS (SELECT 1 FROM activation_image a WHERE a.image_sha256 = i.sha256)`;
      if (sae.familyId) await tx.run`/* rm_family_stale */ UPDATE sae_family SET lineage_stale = true WHERE id = ${sae.familyId}`;
      return counts;
    });
  }

  /** Removes a model/family this ingest created, when nothing else uses it (failed ingests change nothing). */
  async deleteUnused(modelId: string | null, familyId: string | null): Promise<void> {
    if (familyId) {
      await this.db.run`/* ingest.deleteUnusedFamily */
        DELETE FROM sae_family f WHERE f.id = ${familyId} AND NOT EXISTS (SELECT 1 FROM sae s WHERE s.family_id = f.id)`;
    }
    if (modelId) {
      await this.db.run`/* ingest.deleteUnusedModel */
        DELETE FROM model m WHERE m.id = ${modelId}
          AND NOT EXISTS (SELECT 1 FROM sae s WHERE s.model_id = m.id)
          AND NOT EXISTS (SELECT 1 FROM sae_family f WHERE f.model_id = m.id)`;
    }
  }
}
