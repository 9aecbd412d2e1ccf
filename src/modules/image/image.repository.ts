// Reads of stored example images (the /images/<sha256> route).
import { z } from "zod";
import type { Database } from "../../db/database.ts";
import { firstRow } from "../../db/rows.ts";

const ImageRow = z.object({
  contentType: z.string(),
  bytes: z.instanceof(Uint8Array),
});
export type StoredImageBytes = { contentType: string; bytes: Buffer };

export class ImageRepository {
  constructor(private readonly db: Database) {}

  async get(sha256: string): Promise<StoredImageBytes | null> {
    const rows = await this.db.prisma.$queryRaw`
      /* image.get */ SELECT content_type AS "contentType", bytes FROM example_image WHERE sha256 = ${sha256}`;
    const r = firstRow(ImageRow, rows);
    return r ? { contentType: r.contentType, bytes: Buffer.from(r.bytes.buffer, r.bytes.byteOffset, r.bytes.byteLength) } : null;
  }
}
