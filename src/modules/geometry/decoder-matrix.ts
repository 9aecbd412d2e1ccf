// One SAE's decoder directions in memory, as the database stores them: the float16 values of
// each row (pgvector halfvec, straight from the binary COPY) and one float32 1/‖row‖, so the
// process never holds a float32 copy of the matrix. The unit row r is
//   x_r[j] = f32(half[r·d + j]) · invNorm[r]   (each product rounded to float32),
// decoded a row or a block of rows at a time where a consumer needs float32 (decodeRows /
// decodeRange), and read in place by the native kernel (native/scan4.c decodes with F16C).
// Built on first use: the int8 quantisation (`quantized`: scans of many queries and the scan
// where the native module is not built) and, where the native scan is built, 4-bit rows
// (`packed4`: scans of one query). The database stays the source of truth and the cache
// (matrix-cache.ts) reloads when the SAE's version changes.
import { halfToFloatTable, toHalfBits } from "../../shared/float16.ts";
import type { NativeScan, Packed4Rows } from "../../kernel/native-scan.ts";
import { quantizeRows, type QuantizedRows } from "../../kernel/quantize.ts";

export interface DecoderMatrix {
  saeId: string;
  version: string;
  /** Features with a (non-zero) decoder; only they have rows, in feature-index order. */
  rows: number;
  d: number;
  /** rows × d float16 bit patterns: the stored decoder values (not normalised). */
  half: Uint16Array;
  /** Per row 1/‖row‖ of the float16 values, as float32. */
  invNorm: Float32Array;
  /** Feature index of each row. */
  index: Int32Array;
  /** Row of each feature index (0..dSae-1), -1 when it has no decoder. */
  rowOf: Int32Array;
  /** int8 codes of the unit rows, quantised on first read (multi-query scans, the no-native fallback). */
  readonly quantized: QuantizedRows;
  /**
   * 4-bit rows for single-query scans, when the native scan is available (kernel/native-scan.ts).
   * Packed on first read: SAEs used only for lineage or neighbour-list builds never pay for them.
   */
  readonly packed4: Packed4Rows | null;
  /** The native scan that packed4 is for (absent or null: int8 scans only). */
  readonly native?: NativeScan | null;
  /** Bytes held now: the float16 rows, norms and index maps, plus whichever codes are built. */
  readonly bytes: number;
}

/** The fields a matrix is made of; the derived codes are built by makeDecoderMatrix. */
export interface DecoderRows {
  half: Uint16Array;
  invNorm: Float32Array;
  index: Int32Array;
  rowOf: Int32Array;
}

/** Bytes per row of what is always held: d float16 values, the norm, index and rowOf entries. */
export const baseBytesPerRow = (d: number) => 2 * d + 4 + 4 + 4;
/** Bytes per row of the int8 codes (built on first use): d codes, scale and error bound. */
export const int8BytesPerRow = (d: number) => d + 4 + 4;

/**
 * Parses PostgreSQL binary COPY output of (idx int4, decoder halfvec) rows into float16 rows
 * with their inverse norms, chunk by chunk as the COPY streams in (a 1M × 2304 SAE's COPY is
 * 4.85 GB, more than one Buffer can hold). halfvec's binary form: int16 dim, int16 unused,
 * dim × float16, all big-endian. Zero rows have no direction and get no row.
 */
export class DecoderCopyParser {
  private readonly table = halfToFloatTable();
  // Room for every feature from the start: growing by doubling would copy the rows and hold two
  // copies at the last step. finish() trims what features without a decoder left unused.
  private readonly half: Uint16Array;
  private readonly invNorm: Float32Array;
  private readonly index: number[] = [];
  private readonly rowOf: Int32Array;
  /** Bytes of a record the last chunk cut off (or of the header, before it is complete). */
  private rest: Buffer = Buffer.alloc(0);
  private headerDone = false;
  private ended = false;

  constructor(
    private readonly dSae: number,
    private readonly d: number,
  ) {
    this.half = new Uint16Array(dSae * d);
    this.invNorm = new Float32Array(dSae);
    this.rowOf = new Int32Array(dSae).fill(-1);
  }

  push(chunk: Buffer): void {
    const buf = this.rest.length ? Buffer.concat([this.rest, chunk]) : chunk;
    let o = 0;
    if (!this.headerDone) {
      // signature (11) + flags (4) + header extension length (4), then the extension itself
      if (buf.length < 19 || buf.length < 19 + buf.readInt32BE(15)) {
        this.rest = Buffer.from(buf);
        return;
      }
      o = 19 + buf.readInt32BE(15);
      this.headerDone = true;
    }
    while (!this.ended && o + 2 <= buf.length) {
      const fields = buf.readInt16BE(o);
      if (fields === -1) {
        this.ended = true;
        o += 2;
        break;
      }
      // idx: int32 length + int32 value; decoder: int32 length (-1: NULL) + its bytes.
      if (o + 14 > buf.length) break;
      const len = buf.readInt32BE(o + 10);
      const end = o + 14 + Math.max(len, 0);
      if (end > buf.length) break;
      if (len >= 0) this.row(buf, buf.readInt32BE(o + 6), o + 14);
      o = end;
    }
    this.rest = o < buf.length ? Buffer.from(buf.subarray(o)) : Buffer.alloc(0);
  }

  private row(buf: Buffer, idx: number, at: number): void {
    const { d, half, table } = this;
    const dim = buf.readInt16BE(at);
    if (dim !== d) throw new Error(`decoder of feature ${idx} has ${dim} dimensions, the SAE has d_in ${d}`);
    if (idx < 0 || idx >= this.dSae) return;
    const row = this.index.length;
    const base = row * d;
    let p = at + 4;
    let norm = 0;
    for (let j = 0; j < d; j++, p += 2) {
      const h = (buf[p]! << 8) | buf[p + 1]!;
      half[base + j] = h;
      const v = table[h]!;
      norm += v * v;
    }
    // Renormalising makes dot products exact cosines of the stored directions (what
    // pgvector's <=> computes); the next row overwrites a zero one.
    if (norm > 0) {
      this.invNorm[row] = 1 / Math.sqrt(norm);
      this.rowOf[idx] = row;
      this.index.push(idx);
    }
  }

  finish(): DecoderRows {
    if (this.rest.length && !this.ended) throw new Error(`the decoders' COPY stream ended inside a record (${this.rest.length} bytes left)`);
    const { d, half, invNorm } = this;
    const rows = this.index.length;
    // Views when little capacity is spare (no second copy of the rows while loading); copies
    // otherwise, so spare capacity is not held for the cache's life. `bytes` counts the buffers.
    const tight = rows * d >= half.length * 0.875;
    return {
      half: tight ? half.subarray(0, rows * d) : half.slice(0, rows * d),
      invNorm: tight ? invNorm.subarray(0, rows) : invNorm.slice(0, rows),
      index: Int32Array.from(this.index),
      rowOf: this.rowOf,
    };
  }
}

/** parseDecoderCopy over a whole COPY output at once. */
export function parseDecoderCopy(buf: Buffer, dSae: number, d: number): DecoderRows {
  const p = new DecoderCopyParser(dSae, d);
  p.push(buf);
  return p.finish();
}

/** Rows per block when something is built from decoded rows (4 MiB of float32 at a time). */
const DECODE_BLOCK_FLOATS = 1 << 20;

/** The matrix over these rows, its int8 and 4-bit codes built on first read. */
export function makeDecoderMatrix(saeId: string, version: string, d: number, r: DecoderRows, native: NativeScan | null): DecoderMatrix {
  const { half, invNorm, index, rowOf } = r;
  const rows = index.length;
  let packed4: Packed4Rows | null | undefined;
  let quantized: QuantizedRows | undefined;
  const m: DecoderMatrix = {
    saeId,
    version,
    rows,
    d,
    half,
    invNorm,
    index,
    rowOf,
    native,
    get quantized() {
      if (quantized === undefined) quantized = quantizeBlocks(m);
      return quantized;
    },
    get packed4() {
      if (packed4 === undefined) packed4 = native?.pack(half, invNorm, rows, d) ?? null;
      return packed4;
    },
    get bytes() {
      const q = quantized ? quantized.codes.byteLength + quantized.rowScale.byteLength + quantized.rowErr.byteLength : 0;
      return half.buffer.byteLength + invNorm.buffer.byteLength + index.byteLength + rowOf.byteLength + q + (packed4 ? packed4.bytes : 0);
    },
  };
  return m;
}

export function buildDecoderMatrix(saeId: string, version: string, dSae: number, d: number, copy: Buffer, native: NativeScan | null): DecoderMatrix {
  return makeDecoderMatrix(saeId, version, d, parseDecoderCopy(copy, dSae, d), native);
}

/** The matrix of one SAE, streamed from its decoders' COPY (GeometryRepository.copyDecoders). */
export async function loadDecoderMatrix(
  copyDecoders: (saeId: string, onChunk: (chunk: Buffer) => void) => Promise<void>,
  sae: { id: string; version: string; dSae: number; dIn: number },
  native: NativeScan | null,
): Promise<DecoderMatrix> {
  const parser = new DecoderCopyParser(sae.dSae, sae.dIn);
  await copyDecoders(sae.id, (chunk) => parser.push(chunk));
  return makeDecoderMatrix(sae.id, sae.version, sae.dIn, parser.finish(), native);
}

/**
 * A matrix from float32 rows of any norm (tests, benchmarks): each row rounded to float16, as
 * the database stores it. index defaults to 0..rows-1 (rowOf its inverse); zero rows are kept out.
 */
export function decoderMatrixFromFloats(
  saeId: string,
  data: Float32Array,
  rows: number,
  d: number,
  o: { index?: Int32Array; native?: NativeScan | null; version?: string } = {},
): DecoderMatrix {
  const table = halfToFloatTable();
  const half = new Uint16Array(rows * d);
  const inv = new Float32Array(rows);
  const keep: number[] = [];
  for (let r = 0; r < rows; r++) {
    let norm = 0;
    for (let j = 0; j < d; j++) {
      const h = toHalfBits(data[r * d + j]);
      half[keep.length * d + j] = h;
      norm += table[h] * table[h];
    }
    if (norm > 0) {
      inv[keep.length] = 1 / Math.sqrt(norm);
      keep.push(r);
    }
  }
  const given = o.index ?? Int32Array.from({ length: rows }, (_, i) => i);
  const index = Int32Array.from(keep, (r) => given[r]);
  const rowOf = new Int32Array(index.reduce((a, b) => Math.max(a, b + 1), 0)).fill(-1);
  index.forEach((f, r) => (rowOf[f] = r));
  const n = keep.length;
  return makeDecoderMatrix(saeId, o.version ?? "1", d, { half: half.slice(0, n * d), invNorm: inv.slice(0, n), index, rowOf }, o.native ?? null);
}

/** Rows from which decoding crosses into the native module (below, the call costs more than it saves). */
const NATIVE_DECODE_MIN_ROWS = 4;

/**
 * The unit rows `rows` (row numbers of m) decoded into out, row t at out[(at + t)·d]; returns out.
 * x[j] = f32(half[j]) · invNorm, rounded to float32 by the store (natively, the same values, where
 * the matrix has the native module).
 */
export function decodeRows(m: DecoderMatrix, rows: ArrayLike<number>, out: Float32Array = new Float32Array(rows.length * m.d), at = 0): Float32Array {
  const { d, half, invNorm } = m;
  if (m.native && rows.length >= NATIVE_DECODE_MIN_ROWS) {
    const list = rows instanceof Int32Array ? rows : Int32Array.from(rows);
    m.native.decode(half, invNorm, list, 0, list.length, d, at === 0 ? out : out.subarray(at * d));
    return out;
  }
  const table = halfToFloatTable();
  for (let t = 0; t < rows.length; t++) {
    const r = rows[t];
    const inv = invNorm[r];
    const src = r * d;
    const dst = (at + t) * d;
    for (let j = 0; j < d; j++) out[dst + j] = table[half[src + j]] * inv;
  }
  return out;
}

/** The unit rows start..start+count-1 decoded into out (count × d floats from 0); returns out. */
export function decodeRange(m: DecoderMatrix, start: number, count: number, out: Float32Array = new Float32Array(count * m.d)): Float32Array {
  const { d, half, invNorm } = m;
  if (m.native && count >= NATIVE_DECODE_MIN_ROWS) {
    m.native.decode(half, invNorm, null, start, count, d, out);
    return out;
  }
  const table = halfToFloatTable();
  for (let t = 0; t < count; t++) {
    const inv = invNorm[start + t];
    const src = (start + t) * d;
    const dst = t * d;
    for (let j = 0; j < d; j++) out[dst + j] = table[half[src + j]] * inv;
  }
  return out;
}

/** Rows per decoded block for products over the whole matrix (64 MiB of float32). */
export const blockRows = (d: number) => Math.max(1, Math.floor((16 * DECODE_BLOCK_FLOATS) / d));

/**
 * Exact cosines for re-ranking: out[c·per + t] = q[c] · x[rows[c·per + t]] (q: qRows × d; NaN
 * where a row is -1 or outside). Natively where the module is built (the same arithmetic as its
 * exactTopK), else in JavaScript (double sums, rounded to float32); every exact cosine an answer
 * reports comes from here or from exactTopK, so the default and exact: true scans agree bit for bit.
 */
export function rowCosines(m: DecoderMatrix, q: Float32Array, qRows: number, rows: Int32Array, per: number): Float32Array {
  if (m.native) return m.native.dots(q, qRows, m.d, m.half, m.invNorm, rows, per);
  const table = halfToFloatTable();
  const { d, half, invNorm } = m;
  const out = new Float32Array(qRows * per);
  const x = new Float32Array(d);
  for (let c = 0; c < qRows; c++) {
    for (let t = 0; t < per; t++) {
      const r = rows[c * per + t];
      if (!(r >= 0 && r < m.rows)) {
        out[c * per + t] = NaN;
        continue;
      }
      const inv = invNorm[r];
      for (let j = 0; j < d; j++) x[j] = table[half[r * d + j]] * inv;
      let s = 0;
      for (let j = 0; j < d; j++) s += q[c * d + j] * x[j];
      out[c * per + t] = s;
    }
  }
  return out;
}

/** quantizeRows over the unit rows, a decoded block at a time. */
function quantizeBlocks(m: DecoderMatrix): QuantizedRows {
  const { rows, d } = m;
  const codes = new Uint8Array(rows * d);
  const rowScale = new Float32Array(rows);
  const rowErr = new Float32Array(rows);
  const per = blockRows(d);
  const buf = new Float32Array(Math.min(rows, per) * d);
  for (let r0 = 0; r0 < rows; r0 += per) {
    const n = Math.min(per, rows - r0);
    const q = quantizeRows(decodeRange(m, r0, n, buf), n, d);
    codes.set(q.codes, r0 * d);
    rowScale.set(q.rowScale, r0);
    rowErr.set(q.rowErr, r0);
  }
  return { codes, rowScale, rowErr, rows, d };
}
