// PostgreSQL's binary COPY format, written straight into a growable Buffer:
// signature + flags + extension header, then per tuple an int16 field count and
// per field an int32 byte length (-1 = NULL) followed by the value's binary send
// format. Used for both backends (PGlite reads the same bytes from a Blob).
import { halfFromBits } from "../../shared/float16.ts";

const OID_INT4 = 23;
const OID_TEXT = 25;
const OID_FLOAT4 = 700;

export { copyHeader, copyTrailer } from "../../db/bulk.ts";

let f32Scratch = new Float32Array(1024);
let u32Scratch = new Uint32Array(f32Scratch.buffer);
function scratchF32(n: number): Float32Array {
  if (f32Scratch.length < n) {
    f32Scratch = new Float32Array(n);
    u32Scratch = new Uint32Array(f32Scratch.buffer);
  }
  return f32Scratch;
}
/** The bit patterns of the scratch floats. */
function scratchBits(_f: Float32Array): Uint32Array {
  return u32Scratch;
}

export class CopyBuffer {
  buf: Buffer;
  /** DataView setters are inlined by V8; Buffer's write*BE methods are calls with checks. */
  view: DataView;
  pos = 0;
  rows = 0;

  constructor(initial = 1 << 20) {
    // Unpooled and not zero-filled: only the written prefix is ever sent, and the memory
    // can be transferred between threads.
    this.buf = Buffer.allocUnsafeSlow(initial);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  /** Room for n more bytes at pos. */
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafeSlow(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
    this.view = new DataView(next.buffer, next.byteOffset, next.byteLength);
  }

  /** The bytes written so far (a view; copy or send before reset()). */
  take(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  reset(): void {
    this.pos = 0;
    this.rows = 0;
  }

  /** The bytes written so far, handed over (no copy); writing continues in a fresh buffer. */
  detach(): Buffer {
    const out = this.buf.subarray(0, this.pos);
    this.buf = Buffer.allocUnsafeSlow(this.buf.length);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    this.pos = 0;
    this.rows = 0;
    return out;
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

  float8(v: number | null | undefined): void {
    if (v === null || v === undefined) return this.null();
    this.ensure(12);
    this.buf.writeInt32BE(8, this.pos);
    this.buf.writeDoubleBE(v + 0, this.pos + 4);
    this.pos += 12;
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
    const dv = this.view;
    let p = this.pos;
    dv.setInt32(p, 4 + 2 * dim);
    dv.setInt16(p + 4, dim);
    dv.setInt16(p + 6, 0);
    p += 8;
    const f = scratchF32(dim);
    for (let i = 0; i < dim; i++) f[i] = v[i]! * scale + 0; // + 0: no negative zeros (JSON cannot carry them)
    const bits = scratchBits(f);
    for (let i = 0; i < dim; i++, p += 2) dv.setUint16(p, halfFromBits(bits[i]!));
    this.pos = p;
  }

  /** vector: int16 dim, int16 unused, dim float4 (big-endian). */
  vector(v: ArrayLike<number> | null | undefined): void {
    if (!v) return this.null();
    const dim = v.length;
    this.ensure(8 + 4 * dim);
    const dv = this.view;
    let p = this.pos;
    dv.setInt32(p, 4 + 4 * dim);
    dv.setInt16(p + 4, dim);
    dv.setInt16(p + 6, 0);
    p += 8;
    for (let i = 0; i < dim; i++, p += 4) dv.setFloat32(p, v[i]! + 0);
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
    const dv = this.view;
    let p = this.pos;
    for (let i = 0; i < n; i++, p += 8) {
      dv.setInt32(p, 4);
      dv.setFloat32(p + 4, v[i]! + 0);
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
    const dv = this.view;
    let p = this.pos;
    for (let i = 0; i < n; i++) {
      const t = v[i]!;
      const len = t.length;
      let ascii = len <= 64;
      // Short ASCII tokens (most of them) are copied by hand: Buffer#write costs more per call.
      if (ascii) {
        for (let j = 0; j < len; j++) {
          const c = t.charCodeAt(j);
          if (c >= 0x80) {
            ascii = false;
            break;
          }
          b[p + 4 + j] = c;
        }
      }
      const w = ascii ? len : b.write(t, p + 4, "utf8");
      dv.setInt32(p, w);
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
