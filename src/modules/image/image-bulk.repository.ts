// The writes of example images during an ingest, on ingest's dedicated connection and inside
// its transaction (so a failed import stores no image), and the deletes that keep
// example_image free of images no example shows. Fixed SQL text with $n parameters only.
import type { BulkStatements } from "../../db/bulk.ts";
import { CountRow, firstRow } from "../../db/rows.ts";

export interface ImageBytesRow {
  sha256: string;
  contentType: string;
  width: number;
  height: number;
  bytes: Buffer;
}

/** The image of one activation row (sha256 for stored bytes, else url). */
export interface ActivationImageRow {
  index: number;
  ordinal: number;
  sha256: string | null;
  url: string | null;
  width: number;
  height: number;
  patchRows: number;
  patchCols: number;
}

/** Image examples per INSERT (array parameters of this many elements stay small). */
const LINK_BATCH = 10_000;

export class ImageBulkLoad {
  constructor(private readonly conn: BulkStatements) {}

  /** Stores images not stored yet (the same content is the same row: nothing to update). */
  async insertImages(rows: readonly ImageBytesRow[]): Promise<void> {
    // One statement per image: bytea arrays are not encoded alike by the two drivers, and images are few next to activations.
    for (const r of rows) {
      await this.conn.query(
        "/* image_insert */ INSERT INTO example_image (sha256, content_type, width, height, bytes) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (sha256) DO NOTHING",
        [r.sha256, r.contentType, r.width, r.height, r.bytes],
      );
    }
  }

  async insertLinks(saeId: string, all: readonly ActivationImageRow[]): Promise<void> {
    for (let at = 0; at < all.length; at += LINK_BATCH) await this.insertLinkBatch(saeId, all.slice(at, at + LINK_BATCH));
  }

  private async insertLinkBatch(saeId: string, rows: readonly ActivationImageRow[]): Promise<void> {
    await this.conn.query(
      `/* image_insert_links */ INSERT INTO activation_image (sae_id, feature_idx, ordinal, image_sha256, url, width, height, patch_rows, patch_cols)
       SELECT $1, * FROM unnest($2::int[], $3::int[], $4::text[], $5::text[], $6::int[], $7::int[], $8::int[], $9::int[])`,
      [
        saeId,
        rows.map((r) => r.index),
        rows.map((r) => r.ordinal),
        rows.map((r) => r.sha256),
        rows.map((r) => r.url),
        rows.map((r) => r.width),
        rows.map((r) => r.height),
        rows.map((r) => r.patchRows),
        rows.map((r) => r.patchCols),
      ],
    );
  }

  /** Before an SAE's activations are replaced (the bulk path may run without the FK cascade). */
  async deleteLinks(saeId: string): Promise<void> {
    await this.conn.query("/* image_delete_links */ DELETE FROM activation_image WHERE sae_id = $1", [saeId]);
  }

  /** Drops images that no example shows any more; returns how many. */
  async deleteOrphans(): Promise<number> {
    const rows = await this.conn.query(
      `/* image_delete_orphans */ WITH d AS (
         DELETE FROM example_image i WHERE NOT EXISTS (SELECT 1 FROM activation_image a WHERE a.image_sha256 = i.sha256) RETURNING 1
       ) SELECT count(*)::int AS n FROM d`,
    );
    return firstRow(CountRow, rows)?.n ?? 0;
  }
}
