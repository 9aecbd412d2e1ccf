// SQL for feature lists and their items. Reads are keyed by many lists or features at
// once so DataLoaders answer a whole response in one statement. Only features of ready
// SAEs are shown as items (an SAE being (re)loaded is invisible everywhere else too).
// Writes that check something first (the list exists, the feature exists, the list has
// room) do it in the same transaction as the write, so nothing is half-written.
import { z } from "zod";
import type { Database } from "../../db/database.ts";
import { Prisma } from "../../generated/prisma/client.ts";
import type { FeatureKey } from "../../shared/feature-key.ts";

export const ListRecord = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  createdAt: z.date(),
  updatedAt: z.date(),
  itemCount: z.number().int(),
});
export type ListRecord = z.infer<typeof ListRecord>;

export const ListItemRecord = z.object({
  listId: z.string(),
  saeId: z.string(),
  featureIndex: z.number().int(),
  note: z.string().nullable(),
  addedAt: z.date(),
});
export type ListItemRecord = z.infer<typeof ListItemRecord>;

const FeatureListRow = ListRecord.extend({ saeId: z.string(), featureIndex: z.number().int() });

/** Why an item could not be added (the transaction wrote nothing). */
export type AddOutcome = "added" | "no-list" | "no-sae" | "no-feature" | "full";

const LIST_COLUMNS = Prisma.sql`
  l.id, l.name, l.description, l.created_at AS "createdAt", l.updated_at AS "updatedAt",
  (SELECT count(*)::int FROM feature_list_item i JOIN sae s ON s.id = i.sae_id AND s.status = 'ready'
   WHERE i.list_id = l.id) AS "itemCount"`;

export class ListRepository {
  constructor(private readonly db: Database) {}

  async create(id: string, name: string, description: string | null): Promise<ListRecord> {
    const rows = await this.db.sql<unknown>`
      /* list.create */
      WITH l AS (INSERT INTO feature_list (id, name, description) VALUES (${id}, ${name}, ${description}) RETURNING *)
      SELECT l.id, l.name, l.description, l.created_at AS "createdAt", l.updated_at AS "updatedAt", 0 AS "itemCount" FROM l`;
    return ListRecord.parse(rows[0]);
  }

  /** Newest first. */
  async all(first: number): Promise<ListRecord[]> {
    const rows = await this.db.sql<unknown>`
      /* list.all */
      SELECT ${LIST_COLUMNS} FROM feature_list l ORDER BY l.created_at DESC, l.id DESC LIMIT ${first}`;
    return rows.map((r) => ListRecord.parse(r));
  }

  async byIds(ids: readonly string[]): Promise<ListRecord[]> {
    const rows = await this.db.sql<unknown>`
      /* list.byIds */
      SELECT ${LIST_COLUMNS} FROM feature_list l WHERE l.id = ANY(${[...ids]}::text[])`;
    return rows.map((r) => ListRecord.parse(r));
  }

  /** The first `first` items of each list, oldest first. */
  async items(listIds: readonly string[], first: number): Promise<ListItemRecord[]> {
    const rows = await this.db.sql<unknown>`
      /* list.items */
      SELECT "listId", "saeId", "featureIndex", note, "addedAt" FROM (
        SELECT i.list_id AS "listId", i.sae_id AS "saeId", i.feature_idx AS "featureIndex", i.note, i.added_at AS "addedAt",
          row_number() OVER (PARTITION BY i.list_id ORDER BY i.added_at, i.sae_id, i.feature_idx) AS n
        FROM feature_list_item i JOIN sae s ON s.id = i.sae_id AND s.status = 'ready'
        WHERE i.list_id = ANY(${[...listIds]}::text[])
      ) x WHERE n <= ${first}
      ORDER BY "listId", n`;
    return rows.map((r) => ListItemRecord.parse(r));
  }

  /** The lists each feature is on, newest first, at most `first` per feature. */
  async listsOfFeatures(keys: readonly FeatureKey[], first: number): Promise<Array<ListRecord & FeatureKey>> {
    const rows = await this.db.sql<unknown>`
      /* list.ofFeatures */
      SELECT * FROM (
        SELECT ${LIST_COLUMNS}, i.sae_id AS "saeId", i.feature_idx AS "featureIndex",
          row_number() OVER (PARTITION BY i.sae_id, i.feature_idx ORDER BY l.created_at DESC, l.id DESC) AS n
        FROM unnest(${keys.map((k) => k.saeId)}::text[], ${keys.map((k) => k.index)}::int[]) AS k(sae_id, idx)
        JOIN feature_list_item i ON i.sae_id = k.sae_id AND i.feature_idx = k.idx
        JOIN feature_list l ON l.id = i.list_id
      ) x WHERE n <= ${first}
      ORDER BY "saeId", "featureIndex", n`;
    return rows.map((r) => {
      const { featureIndex, ...p } = FeatureListRow.parse(r);
      return { ...p, index: featureIndex };
    });
  }

  /**
   * Adds a feature (or replaces its note). The list row is locked first so that two
   * concurrent adds cannot both pass the capacity check.
   */
  async addItem(listId: string, key: FeatureKey, note: string | null, capacity: number): Promise<AddOutcome> {
    return this.db.prisma.$transaction(async (tx) => {
      const list = await tx.$queryRaw<unknown[]>`/* list.lock */ SELECT id FROM feature_list WHERE id = ${listId} FOR UPDATE`;
      if (list.length === 0) return "no-list";
      const found = z
        .array(z.object({ sae: z.boolean(), feature: z.boolean(), onList: z.boolean(), count: z.number().int() }))
        .parse(await tx.$queryRaw<unknown[]>`/* list.checkAdd */
          SELECT EXISTS (SELECT 1 FROM sae WHERE id = ${key.saeId} AND status = 'ready') AS sae,
            EXISTS (SELECT 1 FROM feature WHERE sae_id = ${key.saeId} AND idx = ${key.index}) AS feature,
            EXISTS (SELECT 1 FROM feature_list_item WHERE list_id = ${listId} AND sae_id = ${key.saeId} AND feature_idx = ${key.index}) AS "onList",
            (SELECT count(*)::int FROM feature_list_item WHERE list_id = ${listId}) AS count`)[0];
      if (!found.sae) return "no-sae";
      if (!found.feature) return "no-feature";
      if (!found.onList && found.count >= capacity) return "full";
      await tx.$executeRaw`/* list.addItem */
        INSERT INTO feature_list_item (list_id, sae_id, feature_idx, note) VALUES (${listId}, ${key.saeId}, ${key.index}, ${note})
        ON CONFLICT (list_id, sae_id, feature_idx) DO UPDATE SET note = EXCLUDED.note`;
      await tx.$executeRaw`/* list.touch */ UPDATE feature_list SET updated_at = CURRENT_TIMESTAMP WHERE id = ${listId}`;
      return "added";
    });
  }

  /** False when there is no such list. */
  async removeItem(listId: string, key: FeatureKey): Promise<boolean> {
    return this.db.prisma.$transaction(async (tx) => {
      const touched = await tx.$executeRaw`/* list.touch */ UPDATE feature_list SET updated_at = CURRENT_TIMESTAMP WHERE id = ${listId}`;
      if (touched === 0) return false;
      await tx.$executeRaw`/* list.removeItem */
        DELETE FROM feature_list_item WHERE list_id = ${listId} AND sae_id = ${key.saeId} AND feature_idx = ${key.index}`;
      return true;
    });
  }

  async delete(id: string): Promise<boolean> {
    return (await this.db.prisma.$executeRaw`/* list.delete */ DELETE FROM feature_list WHERE id = ${id}`) > 0;
  }
}
