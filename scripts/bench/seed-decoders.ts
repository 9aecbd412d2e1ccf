// Writes a synthetic SAE (model, optional family, sae row, feature decoders) straight into the
// database with binary COPY, for geometry tests and benchmarks that need 10k-1M rows fast.
// Decoders are stored as the schema expects: unit-normalised halfvec plus decoder_norm.
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { from as copyFrom } from "pg-copy-streams";
import type { Database } from "../../src/db/database.ts";

export interface SeedSae {
  modelId: string;
  saeId: string;
  familyId?: string | null;
  dIn: number;
  /** n × dIn row-major; rows are normalised on the way in. */
  decoders: Float32Array;
  n: number;
  contentHash?: string;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
/** float32 -> float16 bits, round to nearest even (enough for test data). */
function toHalf(x: number): number {
  f32[0] = x;
  const b = u32[0];
  const sign = (b >>> 16) & 0x8000;
  const exp = ((b >>> 23) & 0xff) - 112;
  let mant = b & 0x7fffff;
  if (exp >= 0x1f) return sign | 0x7c00;
  if (exp <= 0) {
    if (exp < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - exp;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && h & 1)) h++;
    return sign | h;
  }
  let h = (exp << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
  return sign | h;
}

function encodeFeatures(s: SeedSae, from: number, to: number): Buffer {
  const d = s.dIn;
  const id = Buffer.from(s.saeId, "utf8");
  const rowBytes = 2 + (4 + id.length) + 8 + (4 + 4 + 2 * d) + 8;
  const buf = Buffer.alloc(19 * (from === 0 ? 1 : 0) + (to - from) * rowBytes + (to === s.n ? 2 : 0));
  let o = 0;
  if (from === 0) {
    buf.write("PGCOPY\n\xff\r\n\0", 0, "latin1");
    o = 19;
  }
  for (let i = from; i < to; i++) {
    let norm = 0;
    for (let j = 0; j < d; j++) norm += s.decoders[i * d + j] ** 2;
    norm = Math.sqrt(norm);
    const inv = norm > 0 ? 1 / norm : 0;
    o = buf.writeInt16BE(4, o);
    o = buf.writeInt32BE(id.length, o);
    o += id.copy(buf, o);
    o = buf.writeInt32BE(4, o);
    o = buf.writeInt32BE(i, o);
    o = buf.writeInt32BE(4 + 2 * d, o);
    o = buf.writeInt16BE(d, o);
    o = buf.writeInt16BE(0, o);
    for (let j = 0; j < d; j++) o = buf.writeUInt16BE(toHalf(s.decoders[i * d + j] * inv), o);
    o = buf.writeInt32BE(4, o);
    o = buf.writeFloatBE(norm, o);
  }
  if (to === s.n) o = buf.writeInt16BE(-1, o);
  return buf.subarray(0, o);
}

const COPY_PG = "COPY feature (sae_id, idx, decoder, decoder_norm) FROM STDIN (FORMAT binary)";
const COPY_PGLITE = "COPY feature (sae_id, idx, decoder, decoder_norm) FROM '/dev/blob' WITH (FORMAT binary)";

export async function seedSae(db: Database, s: SeedSae): Promise<void> {
  const p = db.prisma;
  await p.$executeRaw`/* seed_model */ INSERT INTO model (id, name, d_model) VALUES (${s.modelId}, ${s.modelId}, ${s.dIn}) ON CONFLICT DO NOTHING`;
  if (s.familyId) {
    await p.$executeRaw`/* seed_family */ INSERT INTO sae_family (id, name, model_id) VALUES (${s.familyId}, ${s.familyId}, ${s.modelId}) ON CONFLICT DO NOTHING`;
  }
  await p.$executeRaw`/* seed_sae */ INSERT INTO sae (id, name, model_id, family_id, architecture, d_in, d_sae, status, content_hash)
    VALUES (${s.saeId}, ${s.saeId}, ${s.modelId}, ${s.familyId ?? null}, 'standard', ${s.dIn}, ${s.n}, 'loading', ${s.contentHash ?? "seed"})`;
  const batch = Math.max(1, Math.floor((8 << 20) / (2 * s.dIn + 64)));
  if (db.driver.kind === "postgres") {
    const client = await db.driver.pool.connect();
    try {
      const chunks = function* () {
        for (let from = 0; from < s.n; from += batch) yield encodeFeatures(s, from, Math.min(s.n, from + batch));
      };
      await pipeline(Readable.from(chunks()), client.query(copyFrom(COPY_PG)));
    } finally {
      client.release();
    }
  } else {
    // PGlite reads a whole binary COPY from one blob: header, tuples, trailer.
    const parts: Buffer[] = [];
    for (let from = 0; from < s.n; from += batch) parts.push(encodeFeatures(s, from, Math.min(s.n, from + batch)));
    await db.driver.pg.query(COPY_PGLITE, [], { blob: new Blob(parts) });
  }
  await p.$executeRaw`/* seed_ready */ UPDATE sae SET status = 'ready', updated_at = now() WHERE id = ${s.saeId}`;
}
