// Binary COPY ... TO STDOUT of one SAE's rows, chunk by chunk or whole, on either backend.
// COPY takes no bind parameters, so the SAE id travels through a transaction-local setting
// (monoscope.copy_sae) and the statement text stays fixed.
import { to as copyTo } from "pg-copy-streams";
import type { Database } from "./database.ts";

const SET_COPY_SAE = "/* copy.setCopySae */ SELECT set_config('monoscope.copy_sae', $1, true)";

/**
 * Runs `copy` (a COPY (SELECT ... WHERE sae_id = current_setting('monoscope.copy_sae')) TO STDOUT
 * WITH (FORMAT binary) statement) for saeId in a read-only transaction, handing its bytes to
 * onChunk as they arrive (PGlite: in one chunk).
 */
export async function copyOutChunksForSae(db: Database, copy: string, saeId: string, onChunk: (chunk: Buffer) => void): Promise<void> {
  const driver = db.driver;
  if (driver.kind === "pglite") {
    // PGlite has no COPY protocol stream: the same statement writes to its blob device.
    const toBlob = copy.replace("TO STDOUT", "TO '/dev/blob'");
    const bytes = await driver.pg.transaction(async (tx) => {
      await tx.query(SET_COPY_SAE, [saeId]);
      const r = await tx.query(toBlob);
      return Buffer.from(await r.blob!.arrayBuffer());
    });
    onChunk(bytes);
    return;
  }
  const client = await driver.pool.connect();
  try {
    await client.query("BEGIN READ ONLY");
    await client.query(SET_COPY_SAE, [saeId]);
    for await (const chunk of client.query(copyTo(copy))) onChunk(chunk as Buffer);
    await client.query("COMMIT");
  } catch (e) {
    await client.query("ROLLBACK").catch(() => {});
    throw e;
  } finally {
    client.release();
  }
}

/** copyOutChunksForSae's bytes in one Buffer (at most buffer.constants.MAX_LENGTH, 4 GiB). */
export async function copyOutForSae(db: Database, copy: string, saeId: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  await copyOutChunksForSae(db, copy, saeId, (c) => chunks.push(c));
  return Buffer.concat(chunks);
}
