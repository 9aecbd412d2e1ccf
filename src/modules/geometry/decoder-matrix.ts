// One SAE's decoder directions in memory: float32 unit rows (exact scans, re-ranking, lineage
// products) and their int8 quantisation (fast approximate scans). Built from the database's
// binary COPY of (idx, halfvec) rows; the database stays the source of truth and the cache
// (matrix-cache.ts) reloads when the SAE's version changes.
import { quantizeRows, type QuantizedRows } from "../../kernel/quantize.ts";

export interface DecoderMatrix {
  saeId: string;
  version: string;
  /** Rows = dSae (feature index = row); rows without a decoder are zero and not `present`. */
  rows: number;
  d: number;
  data: Float32Array;
  present: Uint8Array;
  presentCount: number;
  quantized: QuantizedRows;
  bytes: number;
}

let halfTable: Float32Array | null = null;
function halfToFloat(): Float32Array {
  if (halfTable) return halfTable;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >>> 10) & 0x1f;
    const mant = h & 0x3ff;
    t[h] = sign * (exp === 0 ? mant * 2 ** -24 : exp === 0x1f ? (mant ? NaN : Infinity) : (1 + mant / 1024) * 2 ** (exp - 15));
  }
  halfTable = t;
  return t;
}

/**
 * Parses PostgreSQL binary COPY output of (idx int4, decoder halfvec) into a row-major matrix.
 * halfvec's binary form: int16 dim, int16 unused, dim × float16, all big-endian.
 */
export function parseDecoderCopy(buf: Buffer, rows: number, d: number): { data: Float32Array; present: Uint8Array; presentCount: number } {
  const table = halfToFloat();
  const data = new Float32Array(rows * d);
  const present = new Uint8Array(rows);
  let presentCount = 0;
  // signature (11) + flags (4) + header extension length (4), then the extension itself
  let o = 19 + buf.readInt32BE(15);
  while (o + 2 <= buf.length) {
    const fields = buf.readInt16BE(o);
    o += 2;
    if (fields === -1) break;
    o += 4; // idx length (always 4)
    const idx = buf.readInt32BE(o);
    o += 4;
    const len = buf.readInt32BE(o);
    o += 4;
    if (len < 0) continue;
    const dim = buf.readInt16BE(o);
    if (dim !== d) throw new Error(`decoder of feature ${idx} has ${dim} dimensions, the SAE has d_in ${d}`);
    if (idx >= 0 && idx < rows) {
      const base = idx * d;
      let p = o + 4;
      let norm = 0;
      for (let j = 0; j < d; j++, p += 2) {
        const v = table[(buf[p] << 8) | buf[p + 1]];
        data[base + j] = v;
        norm += v * v;
      }
      // Stored rows are unit up to float16 rounding; renormalising makes dot products exact
      // cosines of the stored directions (what pgvector's <=> computes).
      const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
      for (let j = 0; j < d; j++) data[base + j] *= inv;
      present[idx] = norm > 0 ? 1 : 0;
      presentCount += present[idx];
    }
    o += len;
  }
  return { data, present, presentCount };
}

export function buildDecoderMatrix(saeId: string, version: string, rows: number, d: number, copy: Buffer): DecoderMatrix {
  const { data, present, presentCount } = parseDecoderCopy(copy, rows, d);
  const quantized = quantizeRows(data, rows, d);
  return {
    saeId,
    version,
    rows,
    d,
    data,
    present,
    presentCount,
    quantized,
    bytes: data.byteLength + quantized.codes.byteLength + quantized.rowScale.byteLength + present.byteLength,
  };
}
