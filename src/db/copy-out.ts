// Binary COPY ... TO STDOUT of one SAE's rows, read whole into memory, on either backend.
// COPY takes no bind parameters, so the SAE id travels through a transaction-local setting
// (monoscope.copy_sae) and the statement text stays fixed.
import { to as copyTo } from "pg-copy-streams";
import type { Database } from "./database.ts";

const SET_COPY_SAE = "/* copy.setCopySae */ SELECT set_config('monoscope.copy_sae', $1, true)";

/**
 * Runs `copy` (a COPY (SELECT ... WHERE sae_id = current_setting('monoscope.copy_sae')) TO STDOUT
 * WITH (FORMAT binary) statement) for saeId in a read-only transaction and returns its bytes.
 */
export async function copyOutForSae(db: Database, copy: string, saeId: string): Promise<Buffer> {
  const driver = db.driver;
  if (driver.kind === "pglite") {
    // PGlite has no COPY protocol stream: the same statement writes to its blob device.
    const toBlob = copy.replace("TO STDOUT", "TO '/dev/blob'");
    return driver.pg.transaction(async (tx) => {
      await tx.query(SET_COPY_SAE, [saeId]);
      const r = await tx.query(toBlob);
      return Buffer.from(await r.blob!.arrayBuffer());
    });
  }
  const client = await driver.pool.connect();
  try {
    await client.query("BEGIN READ ONLY");
    await client.query(SET_COPY_SAE, [saeId]);
    const chunks: Buffer[] = [];
    for await (const chunk of client.query(copyTo(copy))) chunks.push(chunk as Buffer);
    await client.query("COMMIT");
    return Buffer.concat(chunks);
  } catch (e) {
    await client.query("ROLLBACK").catch(() => {});
    throw e;
  } finally {
    client.release();
  }
}
