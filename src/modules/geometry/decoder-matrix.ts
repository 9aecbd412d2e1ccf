// One SAE's decoder directions in memory: float32 unit rows (exact scans, re-ranking, lineage
// products), their int8 quantisation (approximate scans of many queries) and, where the native
// scan is built, 4-bit rows (approximate scans of one query). Built from the database's
// binary COPY of (idx, halfvec) rows; the database stays the source of truth and the cache
// (matrix-cache.ts) reloads when the SAE's version changes.
import { halfToFloatTable } from "../../shared/float16.ts";
import { type NativeScan, type Packed4Rows, packedBytes } from "../../kernel/native-scan.ts";
import { quantizeRows, type QuantizedRows } from "../../kernel/quantize.ts";

export interface DecoderMatrix {
  saeId: string;
  version: string;
  /** Features with a (non-zero) decoder; only they have rows, in feature-index order. */
  rows: number;
  d: number;
  /** rows × d unit directions. */
  data: Float32Array;
  /** Feature index of each row. */
  index: Int32Array;
  /** Row of each feature index (0..dSae-1), -1 when it has no decoder. */
  rowOf: Int32Array;
  quantized: QuantizedRows;
  /**
   * 4-bit rows for single-query scans, when the native scan is available (kernel/native-scan.ts).
   * Packed on first read: SAEs used only for lineage or neighbour-list builds never pay for them.
   */
  readonly packed4: Packed4Rows | null;
  /** The native scan that packed4 is for (absent or null: int8 scans only). */
  readonly native?: NativeScan | null;
  bytes: number;
}

/**
 * Parses PostgreSQL binary COPY output of (idx int4, decoder halfvec) rows into unit rows.
 * halfvec's binary form: int16 dim, int16 unused, dim × float16, all big-endian.
 */
export function parseDecoderCopy(buf: Buffer, dSae: number, d: number): { data: Float32Array; index: Int32Array; rowOf: Int32Array } {
  const table = halfToFloatTable();
  let data = new Float32Array(Math.min(dSae, 1024) * d);
  const index: number[] = [];
  const rowOf = new Int32Array(dSae).fill(-1);
  // signature (11) + flags (4) + header extension length (4), then the extension itself
  let o = 19 + buf.readInt32BE(15);
  while (o + 2 <= buf.length) {
    const fields = buf.readInt16BE(o);
    o += 2;
    if (fields === -1) break;
    const idx = buf.readInt32BE(o + 4);
    const len = buf.readInt32BE(o + 8);
    o += 12;
    if (len < 0) continue;
    const dim = buf.readInt16BE(o);
    if (dim !== d) throw new Error(`decoder of feature ${idx} has ${dim} dimensions, the SAE has d_in ${d}`);
    const row = index.length;
    if (idx >= 0 && idx < dSae) {
      if ((row + 1) * d > data.length) {
        const grown = new Float32Array(Math.min(dSae, 2 * (row + 1)) * d);
        grown.set(data);
        data = grown;
      }
      const base = row * d;
      let p = o + 4;
      let norm = 0;
      for (let j = 0; j < d; j++, p += 2) {
        const v = table[(buf[p] << 8) | buf[p + 1]];
        data[base + j] = v;
        norm += v * v;
      }
      // Stored rows are unit up to float16 rounding; renormalising makes dot products exact
      // cosines of the stored directions (what pgvector's <=> computes). Zero rows have no direction.
      if (norm > 0) {
        const inv = 1 / Math.sqrt(norm);
        for (let j = 0; j < d; j++) data[base + j] *= inv;
        rowOf[idx] = row;
        index.push(idx);
      }
    }
    o += len;
  }
  return { data: data.subarray(0, index.length * d), index: Int32Array.from(index), rowOf };
}

export function buildDecoderMatrix(saeId: string, version: string, dSae: number, d: number, copy: Buffer, native: NativeScan | null): DecoderMatrix {
  const { data, index, rowOf } = parseDecoderCopy(copy, dSae, d);
  const rows = index.length;
  const quantized = quantizeRows(data, rows, d);
  let packed4: Packed4Rows | null | undefined;
  return {
    saeId,
    version,
    rows,
    d,
    data,
    index,
    rowOf,
    quantized,
    native,
    get packed4() {
      if (packed4 === undefined) packed4 = native?.pack(data, rows, d) ?? null;
      return packed4;
    },
    // Counts the 4-bit rows from the start, so the cache's budget holds once they are packed.
    bytes:
      data.byteLength + quantized.codes.byteLength + quantized.rowScale.byteLength + quantized.rowErr.byteLength + index.byteLength + rowOf.byteLength + (native ? packedBytes(rows, d) : 0),
  };
}
