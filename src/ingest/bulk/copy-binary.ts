// PostgreSQL's binary COPY format, written straight into a growable Buffer:
// signature + flags + extension header, then per tuple an int16 field count and
// per field an int32 byte length (-1 = NULL) followed by the value's binary send
// format. Used for both backends (PGlite reads the same bytes from a Blob).
import { toHalfBits } from "./float16.ts";

const SIGNATURE = Buffer.from("PGCOPY\n\xff\r\n\0", "latin1");
const OID_INT4 = 23;
const OID_TEXT = 25;
const OID_FLOAT4 = 700;

export function copyHeader(): Buffer {
  const b = Buffer.alloc(19);
  SIGNATURE.copy(b, 0);
  return b; // flags and extension length are zero
}

export function copyTrailer(): Buffer {
  const b = Buffer.alloc(2);
  b.writeInt16BE(-1, 0);
  return b;
}

export class CopyBuffer {
  buf: Buffer;
  pos = 0;
  rows = 0;

  constructor(initial = 1 << 20) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** The bytes written so far (a view; copy or send before reset()). */
  take(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  reset(): void {
    this.pos = 0;
    this.rows = 0;
  }

  tuple(fields: number): void {
    this.ensure(2);
    this.buf.writeInt16BE(fields, this.pos);
    this.pos += 2;
    this.rows++;
  }

  null(): void {
    this.ensure(4);
    this.buf.writeInt32BE(-1, this.pos);
    this.pos += 4;
  }

  int4(v: number | null | undefined): void {
    if (v === null || v === undefined) return this.null();
    this.ensure(8);
    this.buf.writeInt32BE(4, this.pos);
    this.buf.writeInt32BE(v, this.pos + 4);
    this.pos += 8;
  }

  float4(v: number | null | undefined): void {
    if (v === null || v === undefined) return this.null();
    this.ensure(8);
    this.buf.writeInt32BE(4, this.pos);
    this.buf.writeFloatBE(v + 0, this.pos + 4); // + 0: no negative zeros (JSON cannot carry them)
    this.pos += 8;
  }

  text(s: string | null | undefined): void {
    if (s === null || s === undefined) return this.null();
    const max = s.length * 3;
    this.ensure(4 + max);
    const n = this.buf.write(s, this.pos + 4, "utf8");
    this.buf.writeInt32BE(n, this.pos);
    this.pos += 4 + n;
  }

  jsonb(value: unknown): void {
    if (value === null || value === undefined) return this.null();
    const s = JSON.stringify(value);
    this.ensure(5 + s.length * 3);
    this.buf[this.pos + 4] = 1; // jsonb binary format version
    const n = this.buf.write(s, this.pos + 5, "utf8");
    this.buf.writeInt32BE(n + 1, this.pos);
    this.pos += 5 + n;
  }

  /** halfvec: int16 dim, int16 unused, dim float16 (big-endian), each v[i] * scale. */
  halfvec(v: ArrayLike<number>, scale: number): void {
    const dim = v.length;
    this.ensure(8 + 2 * dim);
    const b = this.buf;
    let p = this.pos;
    b.writeInt32BE(4 + 2 * dim, p);
    b.writeInt16BE(dim, p + 4);
    b.writeInt16BE(0, p + 6);
    p += 8;
    for (let i = 0; i < dim; i++) {
      const h = toHalfBits(v[i]! * scale + 0);
      b[p] = h >>> 8;
      b[p + 1] = h & 0xff;
      p += 2;
    }
    this.pos = p;
  }

  /** vector: int16 dim, int16 unused, dim float4 (big-endian). */
  vector(v: ArrayLike<number> | null | undefined): void {
    if (!v) return this.null();
    const dim = v.length;
    this.ensure(8 + 4 * dim);
    const b = this.buf;
    let p = this.pos;
    b.writeInt32BE(4 + 4 * dim, p);
    b.writeInt16BE(dim, p + 4);
    b.writeInt16BE(0, p + 6);
    p += 8;
    for (let i = 0; i < dim; i++, p += 4) b.writeFloatBE(v[i]! + 0, p);
    this.pos = p;
  }

  private arrayHeader(n: number, oid: number): void {
    const b = this.buf;
    b.writeInt32BE(1, this.pos); // ndim
    b.writeInt32BE(0, this.pos + 4); // has nulls
    b.writeInt32BE(oid, this.pos + 8);
    b.writeInt32BE(n, this.pos + 12);
    b.writeInt32BE(1, this.pos + 16); // lower bound
    this.pos += 20;
  }

  /** real[] (one dimension, no NULLs). */
  float4Array(v: ArrayLike<number> | null | undefined): void {
    if (!v) return this.null();
    const n = v.length;
    if (n === 0) return this.emptyArray(OID_FLOAT4);
    this.ensure(4 + 20 + 8 * n);
    this.buf.writeInt32BE(20 + 8 * n, this.pos);
    this.pos += 4;
    this.arrayHeader(n, OID_FLOAT4);
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++, p += 8) {
      b.writeInt32BE(4, p);
      b.writeFloatBE(v[i]! + 0, p + 4);
    }
    this.pos = p;
  }

  int4Array(v: ArrayLike<number> | null | undefined): void {
    if (!v) return this.null();
    const n = v.length;
    if (n === 0) return this.emptyArray(OID_INT4);
    this.ensure(4 + 20 + 8 * n);
    this.buf.writeInt32BE(20 + 8 * n, this.pos);
    this.pos += 4;
    this.arrayHeader(n, OID_INT4);
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++, p += 8) {
      b.writeInt32BE(4, p);
      b.writeInt32BE(v[i]!, p + 4);
    }
    this.pos = p;
  }

  /** text[] (one dimension, no NULLs). */
  textArray(v: readonly string[] | null | undefined): void {
    if (!v) return this.null();
    const n = v.length;
    if (n === 0) return this.emptyArray(OID_TEXT);
    let max = 0;
    for (let i = 0; i < n; i++) max += v[i]!.length;
    this.ensure(4 + 20 + 4 * n + 3 * max);
    const start = this.pos;
    this.pos += 4;
    this.arrayHeader(n, OID_TEXT);
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) {
      const w = b.write(v[i]!, p + 4, "utf8");
      b.writeInt32BE(w, p);
      p += 4 + w;
    }
    b.writeInt32BE(p - start - 4, start);
    this.pos = p;
  }

  private emptyArray(oid: number): void {
    this.ensure(16);
    const b = this.buf;
    b.writeInt32BE(12, this.pos);
    b.writeInt32BE(0, this.pos + 4); // ndim 0
    b.writeInt32BE(0, this.pos + 8);
    b.writeInt32BE(oid, this.pos + 12);
    this.pos += 16;
  }
}
