// The decoders' binary COPY is parsed as it streams (a 1M × 2304 SAE's COPY is larger than one
// Buffer can be): any split of the stream into chunks gives the rows of the whole.
import { describe, expect, it } from "vitest";
import { DecoderCopyParser, parseDecoderCopy } from "../../src/modules/geometry/decoder-matrix.ts";
import { toHalfBits } from "../../src/shared/float16.ts";

const D = 5;

/** PostgreSQL's binary COPY of (idx int4, decoder halfvec) rows; null: a NULL decoder. */
function copyBytes(rows: [number, number[] | null][]): Buffer {
  const parts: Buffer[] = [];
  const header = Buffer.alloc(19 + 3);
  header.write("PGCOPY\n\xff\r\n\0", 0, "latin1");
  header.writeInt32BE(0, 11);
  header.writeInt32BE(3, 15); // a header extension of 3 bytes, skipped by its length
  parts.push(header);
  for (const [idx, v] of rows) {
    const head = Buffer.alloc(2 + 8 + 4);
    head.writeInt16BE(2, 0);
    head.writeInt32BE(4, 2);
    head.writeInt32BE(idx, 6);
    if (v === null) {
      head.writeInt32BE(-1, 10);
      parts.push(head);
      continue;
    }
    head.writeInt32BE(4 + 2 * v.length, 10);
    const body = Buffer.alloc(4 + 2 * v.length);
    body.writeInt16BE(v.length, 0);
    v.forEach((x, j) => body.writeUInt16BE(toHalfBits(x), 4 + 2 * j));
    parts.push(head, body);
  }
  const trailer = Buffer.alloc(2);
  trailer.writeInt16BE(-1, 0);
  parts.push(trailer);
  return Buffer.concat(parts);
}

const rows: [number, number[] | null][] = [
  [0, [1, 0, 0, 0, 0]],
  [1, null],
  [2, [0, 0, 0, 0, 0]],
  [3, [0.5, -0.25, 2, 0, 1]],
  [5, [0, 3, 0, -4, 0]],
  [6, [0.1, 0.2, 0.3, 0.4, 0.5]],
];

function chunked(buf: Buffer, sizes: () => number) {
  const p = new DecoderCopyParser(8, D);
  for (let o = 0; o < buf.length; ) {
    const n = Math.max(1, sizes());
    p.push(buf.subarray(o, o + n));
    o += n;
  }
  return p.finish();
}

describe("DecoderCopyParser", () => {
  const buf = copyBytes(rows);
  const whole = parseDecoderCopy(buf, 8, D);

  it("keeps the rows with a non-zero decoder, in index order, with their inverse norms", () => {
    expect([...whole.index]).toEqual([0, 3, 5, 6]);
    expect([...whole.rowOf]).toEqual([0, -1, -1, 1, -1, 2, 3, -1]);
    expect(whole.invNorm[2]).toBeCloseTo(1 / 5, 6);
    expect(whole.half.length).toBe(4 * D);
  });

  it("gives the same rows for any split of the stream into chunks", () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % 40) + 1;
    for (const sizes of [() => 1, () => 3, () => 13, () => buf.length, random]) {
      const r = chunked(buf, sizes);
      expect([...r.half]).toEqual([...whole.half]);
      expect([...r.invNorm]).toEqual([...whole.invNorm]);
      expect([...r.index]).toEqual([...whole.index]);
      expect([...r.rowOf]).toEqual([...whole.rowOf]);
    }
  });

  it("refuses a stream that ends inside a record, and a decoder of the wrong width", () => {
    const p = new DecoderCopyParser(8, D);
    p.push(buf.subarray(0, buf.length - 20));
    expect(() => p.finish()).toThrow(/ended inside a record/);
    expect(() => parseDecoderCopy(copyBytes([[0, [1, 2, 3]]]), 8, D)).toThrow(/decoder of feature 0 has 3 dimensions, the SAE has d_in 5/);
  });
});
