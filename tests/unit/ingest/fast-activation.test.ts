// The byte-level encoder for common native activation lines writes exactly the tuple of the
// general path (JSON.parse + parseRecord + encodeActivationTuple), or declines and writes nothing.
import { describe, expect, it } from "vitest";
import { encodeActivationTuple } from "../../../src/ingest/bulk/activation-tuple.ts";
import { CopyBuffer } from "../../../src/ingest/bulk/copy-binary.ts";
import { FastActivationEncoder } from "../../../src/ingest/native/fast-activation.ts";
import { parseRecord } from "../../../src/ingest/native/records.ts";

const SAE = "sae-é";
const D_SAE = 100;

function general(line: string): Buffer | null {
  try {
    const r = parseRecord(JSON.parse(line), "f:1");
    if (r.type !== "activation") return null;
    const b = new CopyBuffer(64);
    encodeActivationTuple(b, SAE, D_SAE, r.row, "f:1", "", 0);
    return Buffer.from(b.take());
  } catch {
    return null;
  }
}

function fast(line: string | Buffer): Buffer | null {
  const bytes = Buffer.concat([Buffer.from("xx\n"), Buffer.isBuffer(line) ? line : Buffer.from(line, "utf8"), Buffer.from("\n{}")]);
  const b = new CopyBuffer(16);
  b.int4(7); // something before: the tuple is appended
  const before = b.pos;
  const i = new FastActivationEncoder(SAE, D_SAE).encode(b, bytes, 3, bytes.length - 3);
  if (i < 0) {
    expect(b.pos).toBe(before);
    return null;
  }
  return Buffer.from(b.take().subarray(before));
}

function same(line: string): boolean {
  const f = fast(line);
  const g = general(line);
  if (f) expect(f.equals(g!), line).toBe(true);
  return f !== null;
}

describe("fast activation lines", () => {
  it("encodes the common records exactly as the general path", () => {
    const lines = [
      { type: "activation", index: 12, tokens: ["the", " cat"], values: [0, 1.5], kind: "top", binMin: null, binMax: null, source: "doc-1" },
      { index: 0, tokens: ["a"], values: [-0] },
      { values: [0.1, 0.2, 1e-7, 123456789.123456789, 3.4028235e38, 1e-45, 5e-324, 0.30000000000000004, -2.5e10], tokens: ["é", "日本", "😀", "\"q\"", "\\", "/", "\b\f\n\r\t", "\u0001", "x"], index: 99, kind: "quantile", binMin: 0.25, binMax: 1e300, source: null },
      { index: 3, tokens: ["Ġâ", "ĢĻ", " said"], values: [1, 1, 0.5], kind: null, source: "π/2 \u2028" },
    ];
    for (const l of lines) expect(same(JSON.stringify(l))).toBe(true);
    // JSON from other writers: spaces, escapes of any code point, exponents.
    const python = '{"index": 7, "tokens": ["caf\\u00e9", "\\ud83d\\ude00", "\\u65e5", "\\u0041"], "values": [1E2, 1e+2, 1.0e-2, 0.000001], "kind": "top" }';
    expect(same(python)).toBe(true);
    expect(same('  {"index":1,"tokens":["a","b"],"values":[12345678901234567890,1.7976931348623157e308]}  ')).toBe(true);
  });

  it("leaves everything else to the general path", () => {
    for (const line of [
      "",
      "   ",
      '{"type":"feature","index":1}',
      '{"index":1,"tokens":["a"],"values":[1],"extra":2}',
      '{"index":1,"tokens":["a"],"values":[1],"index":2}',
      '{"index":100,"tokens":["a"],"values":[1]}',
      '{"index":-1,"tokens":["a"],"values":[1]}',
      '{"index":1.0,"tokens":["a"],"values":[1]}',
      '{"index":1,"tokens":[],"values":[]}',
      '{"index":1,"tokens":["a","b"],"values":[1]}',
      '{"index":1,"tokens":["a"],"values":[1e999]}',
      '{"index":1,"tokens":["a"],"values":[01]}',
      '{"index":1,"tokens":["a"],"values":[.5]}',
      '{"index":1,"tokens":["a"],"values":["1"]}',
      '{"index":1,"tokens":[1],"values":[1]}',
      '{"index":1,"tokens":["\\ud83d"],"values":[1]}',
      '{"index":1,"tokens":["a\\x"],"values":[1]}',
      '{"index":1,"tokens":["a"],"values":[1],"kind":"bottom"}',
      '{"index":1,"tokens":["a"],"values":[1],"binMin":"low"}',
      '{"index":1,"tokens":["a"],"values":[1]',
      '{"index":1,"tokens":["a"],"values":[1]} x',
      '{"index":1,"tokens":["a\tb"],"values":[1]}',
      '\ufeff{"index":1,"tokens":["a"],"values":[1]}',
      // Image examples (no tokens, an image field) always take the general path.
      '{"index":1,"image":{"file":"a.png","patchGrid":[1,2]},"values":[1,2]}',
      '{"index":1,"tokens":[],"image":{"file":"a.png","patchGrid":[1,1]},"values":[1]}',
      '{"type":"activation","index":1,"tokens":["a"],"values":[1],"image":{"url":"https://x.org/a.png","width":1,"height":1,"patchGrid":[1,1]}}',
    ]) {
      expect(same(line), line).toBe(false);
    }
    // Malformed UTF-8 inside a string.
    for (const bad of [[0xc3], [0xe6, 0x97], [0xed, 0xa0, 0x80], [0xc0, 0x80], [0xf8, 0x80, 0x80, 0x80]]) {
      const line = Buffer.concat([Buffer.from('{"index":1,"tokens":["'), Buffer.from(bad), Buffer.from('"],"values":[1]}')]);
      expect(fast(line)).toBeNull();
    }
  });

  it("agrees with the general path on random records", () => {
    let seed = 12345;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    const pieces = ["a", " the", "é", "日", "😀", '"', "\\", "\n", "\u0000", "\u001f", "\u007f", "\u2028", "Ġ", "x".repeat(40)];
    const nums = () => {
      const k = rnd();
      if (k < 0.2) return Math.round(rnd() * 1000) / 100;
      if (k < 0.4) return (rnd() - 0.5) * 10 ** Math.floor(rnd() * 80 - 40);
      if (k < 0.5) return Math.fround(rnd());
      if (k < 0.6) return Math.round(rnd() * 1e6);
      return rnd() * 4;
    };
    let accepted = 0;
    for (let i = 0; i < 3000; i++) {
      const n = 1 + Math.floor(rnd() * 20);
      const tokens = Array.from({ length: n }, () => Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => pieces[Math.floor(rnd() * pieces.length)]).join(""));
      const values = Array.from({ length: n }, nums);
      const o: Record<string, unknown> = { index: Math.floor(rnd() * D_SAE), tokens, values };
      if (rnd() < 0.5) o.kind = rnd() < 0.5 ? "top" : "quantile";
      if (rnd() < 0.3) o.binMin = nums();
      if (rnd() < 0.3) o.binMax = null;
      if (rnd() < 0.5) o.source = `doc ${i} ${tokens[0]}`;
      if (rnd() < 0.3) o.type = "activation";
      const keys = Object.keys(o).sort(() => rnd() - 0.5);
      let line = JSON.stringify(Object.fromEntries(keys.map((k) => [k, o[k]])), null, rnd() < 0.2 ? 1 : undefined).replace(/\n/g, " ");
      if (rnd() < 0.2) line = line.replace(/[^\x00-\x7f]/gu, (c) => Array.from({ length: c.length }, (_, j) => "\\u" + c.charCodeAt(j).toString(16).padStart(4, "0")).join(""));
      if (same(line)) accepted++;
    }
    expect(accepted).toBeGreaterThan(2900);
  });
});
