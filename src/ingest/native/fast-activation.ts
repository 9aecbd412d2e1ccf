// The common native activation line, straight from its UTF-8 bytes to the COPY tuple that
// activation-block.ts would write through JSON.parse + parseRecord + encodeActivationTuple,
// without building strings, arrays or objects: a plain activation record (keys type, index,
// tokens, values, kind, binMin, binMax, source, each at most once, in any order), strings with
// well-formed UTF-8 and JSON escapes, numbers as JSON writes them. Anything else (another key,
// another record type, a value the checks would reject, malformed or unusual input) returns
// false having written nothing, and the line takes the general path, which reports errors.
// Numbers: Clinger's fast path (at most 15 digits and a power of ten up to 22, exact in
// doubles, so one correctly rounded operation) or Number() of the literal, which is the
// same conversion JSON.parse makes.
import type { CopyBuffer } from "../bulk/copy-binary.ts";

const POW10 = Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));
const KEYS = ["type", "index", "tokens", "values", "kind", "binMin", "binMax", "source"].map((k) => Buffer.from(k, "latin1"));
const [K_TYPE, K_INDEX, K_TOKENS, K_VALUES, K_KIND, K_BINMIN, K_BINMAX, K_SOURCE] = [0, 1, 2, 3, 4, 5, 6, 7] as const;
const ACTIVATION = Buffer.from("activation", "latin1");
const TOP = Buffer.from("top", "latin1");
const QUANTILE = Buffer.from("quantile", "latin1");
const OID_TEXT = 25;
const OID_FLOAT4 = 700;

export class FastActivationEncoder {
  private readonly saeId: Buffer;
  // Per token: content start/end in the line, decoded byte length, whether it has escapes.
  private tokS = new Int32Array(256);
  private tokE = new Int32Array(256);
  private tokLen = new Int32Array(256);
  private tokEsc = new Uint8Array(256);
  private vals = new Float64Array(256);
  private s: Buffer = Buffer.alloc(0);
  private p = 0;
  private end = 0;
  // The last string read: content span, decoded length, escapes.
  private strS = 0;
  private strE = 0;
  private strLen = 0;
  private strEsc = false;

  constructor(
    saeId: string,
    private readonly dSae: number,
  ) {
    this.saeId = Buffer.from(saeId, "utf8");
  }

  /** Encodes line s[start, end) into b with ordinal 0; returns its feature index, or -1 (nothing written). */
  encode(b: CopyBuffer, s: Buffer, start: number, end: number): number {
    this.s = s;
    this.p = start;
    this.end = end;
    this.ws();
    if (s[this.p] !== 0x7b) return -1; // {
    this.p++;
    let seen = 0;
    let index = -1;
    let nTok = -1;
    let nVal = -1;
    let kind = TOP;
    let binMin: number | null = null;
    let binMax: number | null = null;
    let srcS = -1;
    let srcE = -1;
    let srcLen = 0;
    let srcEsc = false;
    for (;;) {
      this.ws();
      const key = this.key();
      if (key < 0 || seen & (1 << key)) return -1;
      seen |= 1 << key;
      this.ws();
      if (s[this.p] !== 0x3a) return -1; // :
      this.p++;
      this.ws();
      switch (key) {
        case K_TYPE:
          if (!this.str() || this.strEsc || !this.is(ACTIVATION)) return -1;
          break;
        case K_INDEX:
          index = this.uint();
          if (index < 0 || index >= this.dSae) return -1;
          break;
        case K_TOKENS:
          nTok = this.tokens();
          if (nTok <= 0) return -1;
          break;
        case K_VALUES:
          nVal = this.values();
          if (nVal <= 0) return -1;
          break;
        case K_KIND:
          if (this.nul()) break;
          if (!this.str() || this.strEsc) return -1;
          if (this.is(TOP)) kind = TOP;
          else if (this.is(QUANTILE)) kind = QUANTILE;
          else return -1;
          break;
        case K_BINMIN:
        case K_BINMAX: {
          let v: number | null = null;
          if (!this.nul()) {
            v = this.num();
            if (Number.isNaN(v)) return -1;
          }
          if (key === K_BINMIN) binMin = v;
          else binMax = v;
          break;
        }
        case K_SOURCE:
          if (this.nul()) {
            srcS = -1;
            break;
          }
          if (!this.str()) return -1;
          srcS = this.strS;
          srcE = this.strE;
          srcLen = this.strLen;
          srcEsc = this.strEsc;
          break;
      }
      this.ws();
      const c = s[this.p];
      this.p++;
      if (c === 0x7d) break; // }
      if (c !== 0x2c) return -1; // ,
    }
    this.ws();
    if (this.p !== end || index < 0 || nTok < 0 || nVal !== nTok) return -1;

    // Everything checked: write the tuple (the layout of encodeActivationTuple).
    const vals = this.vals;
    let max = -Infinity;
    let at = 0;
    for (let i = 0; i < nVal; i++) {
      const v = vals[i]!;
      if (v > max) {
        max = v;
        at = i;
      }
    }
    let tokBytes = 0;
    for (let i = 0; i < nTok; i++) tokBytes += this.tokLen[i]!;
    const sid = this.saeId;
    b.ensure(2 + 4 + sid.length + 16 + 4 + 20 + 4 * nTok + tokBytes + 4 + 20 + 8 * nVal + 16 + 4 + kind.length + 24 + 4 + srcLen + 4 + tokBytes + 8);
    b.rows++;
    const out = b.buf;
    const dv = b.view;
    let p = b.pos;
    dv.setInt16(p, 14);
    dv.setInt32(p + 2, sid.length);
    p += 6;
    sid.copy(out, p);
    p += sid.length;
    dv.setInt32(p, 4);
    dv.setInt32(p + 4, index);
    dv.setInt32(p + 8, 4);
    dv.setInt32(p + 12, 0); // ordinal: the session patches it in
    p += 16;
    // text[]
    dv.setInt32(p, 20 + 4 * nTok + tokBytes);
    dv.setInt32(p + 4, 1);
    dv.setInt32(p + 8, 0);
    dv.setInt32(p + 12, OID_TEXT);
    dv.setInt32(p + 16, nTok);
    dv.setInt32(p + 20, 1);
    p += 24;
    const tokS = this.tokS;
    const tokE = this.tokE;
    const tokLen = this.tokLen;
    const tokEsc = this.tokEsc;
    for (let i = 0; i < nTok; i++) {
      dv.setInt32(p, tokLen[i]!);
      p += 4;
      if (tokEsc[i] === 1) p = this.putEscaped(out, p, tokS[i]!, tokE[i]!);
      else for (let j = tokS[i]!, e = tokE[i]!; j < e; j++) out[p++] = s[j]!;
    }
    // real[]
    dv.setInt32(p, 20 + 8 * nVal);
    dv.setInt32(p + 4, 1);
    dv.setInt32(p + 8, 0);
    dv.setInt32(p + 12, OID_FLOAT4);
    dv.setInt32(p + 16, nVal);
    dv.setInt32(p + 20, 1);
    p += 24;
    for (let i = 0; i < nVal; i++, p += 8) {
      dv.setInt32(p, 4);
      dv.setFloat32(p + 4, vals[i]! + 0);
    }
    dv.setInt32(p, 4);
    dv.setFloat32(p + 4, max + 0);
    dv.setInt32(p + 8, 4);
    dv.setInt32(p + 12, at);
    dv.setInt32(p + 16, kind.length);
    p += 20;
    kind.copy(out, p);
    p += kind.length;
    p = float8OrNull(dv, p, binMin);
    p = float8OrNull(dv, p, binMax);
    if (srcS < 0) {
      dv.setInt32(p, -1);
      p += 4;
    } else {
      dv.setInt32(p, srcLen);
      p = srcEsc ? this.putEscaped(out, p + 4, srcS, srcE) : p + 4 + s.copy(out, p + 4, srcS, srcE);
    }
    // text: the tokens joined
    dv.setInt32(p, tokBytes);
    p += 4;
    for (let i = 0; i < nTok; i++) {
      if (tokEsc[i] === 1) p = this.putEscaped(out, p, tokS[i]!, tokE[i]!);
      else for (let j = tokS[i]!, e = tokE[i]!; j < e; j++) out[p++] = s[j]!;
    }
    // raw_tokens, source_fields: a native line's tokens are already readable and it has no extras
    dv.setInt32(p, -1);
    dv.setInt32(p + 4, -1);
    p += 8;
    b.pos = p;
    return index;
  }

  private ws(): void {
    const s = this.s;
    const end = this.end;
    let p = this.p;
    while (p < end) {
      const c = s[p];
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break;
      p++;
    }
    this.p = p;
  }

  private is(word: Buffer): boolean {
    if (this.strE - this.strS !== word.length) return false;
    for (let i = 0; i < word.length; i++) if (this.s[this.strS + i] !== word[i]) return false;
    return true;
  }

  private key(): number {
    if (!this.str() || this.strEsc) return -1;
    for (let k = 0; k < KEYS.length; k++) if (this.is(KEYS[k]!)) return k;
    return -1;
  }

  private nul(): boolean {
    const s = this.s;
    const p = this.p;
    if (s[p] === 0x6e && s[p + 1] === 0x75 && s[p + 2] === 0x6c && s[p + 3] === 0x6c) {
      this.p = p + 4;
      return true;
    }
    return false;
  }

  /** A non-negative integer index (as JSON writes it), or -1. */
  private uint(): number {
    const s = this.s;
    let p = this.p;
    let c = s[p]!;
    if (c === 0x30) {
      p++;
      c = s[p]!;
      if (c >= 0x30 && c <= 0x39) return -1;
      this.p = p;
      return c === 0x2e || c === 0x65 || c === 0x45 ? -1 : 0;
    }
    let v = 0;
    let n = 0;
    while (c >= 0x30 && c <= 0x39) {
      v = v * 10 + (c - 0x30);
      n++;
      c = s[++p]!;
    }
    if (n === 0 || n > 9 || c === 0x2e || c === 0x65 || c === 0x45) return -1;
    this.p = p;
    return v;
  }

  /** A JSON number, or NaN (not one, or not finite). */
  private num(): number {
    const s = this.s;
    const st = this.p;
    let p = st;
    let neg = false;
    if (s[p] === 0x2d) {
      neg = true;
      p++;
    }
    let c = s[p]!;
    let mant = 0;
    let nd = 0;
    if (c === 0x30) {
      c = s[++p]!;
    } else if (c >= 0x31 && c <= 0x39) {
      while (c >= 0x30 && c <= 0x39) {
        mant = mant * 10 + (c - 0x30);
        nd++;
        c = s[++p]!;
      }
    } else return NaN;
    let scale = 0;
    if (c === 0x2e) {
      c = s[++p]!;
      if (!(c >= 0x30 && c <= 0x39)) return NaN;
      while (c >= 0x30 && c <= 0x39) {
        mant = mant * 10 + (c - 0x30);
        if (mant !== 0) nd++;
        scale++;
        c = s[++p]!;
      }
    }
    let exp = 0;
    if (c === 0x65 || c === 0x45) {
      c = s[++p]!;
      let eneg = false;
      if (c === 0x2b || c === 0x2d) {
        eneg = c === 0x2d;
        c = s[++p]!;
      }
      if (!(c >= 0x30 && c <= 0x39)) return NaN;
      while (c >= 0x30 && c <= 0x39) {
        if (exp < 100000) exp = exp * 10 + (c - 0x30);
        c = s[++p]!;
      }
      if (eneg) exp = -exp;
    }
    this.p = p;
    const e10 = exp - scale;
    let v: number;
    if (nd <= 15 && e10 >= -22 && e10 <= 22) {
      v = e10 >= 0 ? mant * POW10[e10]! : mant / POW10[-e10]!;
      if (neg) v = -v;
    } else {
      v = Number(s.toString("latin1", st, p));
    }
    return Number.isFinite(v) ? v : NaN;
  }

  /** A JSON string at p: sets strS/strE/strLen/strEsc; false when it is not a plain one. */
  private str(): boolean {
    const s = this.s;
    let p = this.p;
    if (s[p] !== 0x22) return false;
    p++;
    const st = p;
    const end = this.end;
    let len = 0;
    let esc = false;
    for (;;) {
      if (p >= end) return false;
      const c = s[p]!;
      if (c === 0x22) break;
      if (c < 0x20) return false;
      if (c < 0x80 && c !== 0x5c) {
        p++;
        len++;
        continue;
      }
      if (c === 0x5c) {
        esc = true;
        const d = s[p + 1];
        if (d === 0x75) {
          const cp = this.hex4(p + 2);
          if (cp < 0) return false;
          if (cp >= 0xd800 && cp <= 0xdbff) {
            if (s[p + 6] !== 0x5c || s[p + 7] !== 0x75) return false;
            const lo = this.hex4(p + 8);
            if (lo < 0xdc00 || lo > 0xdfff) return false;
            len += 4;
            p += 12;
          } else if (cp >= 0xdc00 && cp <= 0xdfff) return false;
          else {
            len += cp < 0x80 ? 1 : cp < 0x800 ? 2 : 3;
            p += 6;
          }
          continue;
        }
        if (d === 0x22 || d === 0x5c || d === 0x2f || d === 0x62 || d === 0x66 || d === 0x6e || d === 0x72 || d === 0x74) {
          len++;
          p += 2;
          continue;
        }
        return false;
      }
      // Well-formed UTF-8 only (what Buffer#toString would keep as it is).
      const n = utf8Length(s, p, end);
      if (n === 0) return false;
      p += n;
      len += n;
    }
    this.strS = st;
    this.strE = p;
    this.strLen = len;
    this.strEsc = esc;
    this.p = p + 1;
    return true;
  }

  private hex4(p: number): number {
    let v = 0;
    for (let i = 0; i < 4; i++) {
      const c = this.s[p + i]!;
      const d = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : -1;
      if (d < 0 || p + i >= this.end) return -1;
      v = v * 16 + d;
    }
    return v;
  }

  private tokens(): number {
    const s = this.s;
    if (s[this.p] !== 0x5b) return -1; // [
    this.p++;
    this.ws();
    if (s[this.p] === 0x5d) return -1; // empty: the general path reports it
    let n = 0;
    for (;;) {
      if (!this.str()) return -1;
      if (n === this.tokS.length) this.growTokens();
      this.tokS[n] = this.strS;
      this.tokE[n] = this.strE;
      this.tokLen[n] = this.strLen;
      this.tokEsc[n] = this.strEsc ? 1 : 0;
      n++;
      this.ws();
      const c = s[this.p];
      this.p++;
      if (c === 0x5d) return n;
      if (c !== 0x2c) return -1;
      this.ws();
    }
  }

  private values(): number {
    const s = this.s;
    if (s[this.p] !== 0x5b) return -1;
    this.p++;
    this.ws();
    if (s[this.p] === 0x5d) return -1;
    let n = 0;
    for (;;) {
      const v = this.num();
      if (Number.isNaN(v)) return -1;
      if (n === this.vals.length) {
        const next = new Float64Array(n * 2);
        next.set(this.vals);
        this.vals = next;
      }
      this.vals[n++] = v;
      this.ws();
      const c = s[this.p];
      this.p++;
      if (c === 0x5d) return n;
      if (c !== 0x2c) return -1;
      this.ws();
    }
  }

  private growTokens(): void {
    const n = this.tokS.length * 2;
    const tokS = new Int32Array(n);
    const tokE = new Int32Array(n);
    const tokLen = new Int32Array(n);
    const tokEsc = new Uint8Array(n);
    tokS.set(this.tokS);
    tokE.set(this.tokE);
    tokLen.set(this.tokLen);
    tokEsc.set(this.tokEsc);
    this.tokS = tokS;
    this.tokE = tokE;
    this.tokLen = tokLen;
    this.tokEsc = tokEsc;
  }

  /** The decoded bytes of the string content s[st, e), which has escapes, at out[p]; returns the end. */
  private putEscaped(out: Buffer, p: number, st: number, e: number): number {
    const s = this.s;
    let i = st;
    while (i < e) {
      const c = s[i]!;
      if (c !== 0x5c) {
        out[p++] = c;
        i++;
        continue;
      }
      const d = s[i + 1]!;
      if (d === 0x75) {
        let cp = this.hex4(i + 2);
        i += 6;
        if (cp >= 0xd800 && cp <= 0xdbff) {
          cp = 0x10000 + ((cp - 0xd800) << 10) + (this.hex4(i + 2) - 0xdc00);
          i += 6;
        }
        if (cp < 0x80) out[p++] = cp;
        else if (cp < 0x800) {
          out[p++] = 0xc0 | (cp >> 6);
          out[p++] = 0x80 | (cp & 0x3f);
        } else if (cp < 0x10000) {
          out[p++] = 0xe0 | (cp >> 12);
          out[p++] = 0x80 | ((cp >> 6) & 0x3f);
          out[p++] = 0x80 | (cp & 0x3f);
        } else {
          out[p++] = 0xf0 | (cp >> 18);
          out[p++] = 0x80 | ((cp >> 12) & 0x3f);
          out[p++] = 0x80 | ((cp >> 6) & 0x3f);
          out[p++] = 0x80 | (cp & 0x3f);
        }
        continue;
      }
      out[p++] = d === 0x62 ? 8 : d === 0x66 ? 12 : d === 0x6e ? 10 : d === 0x72 ? 13 : d === 0x74 ? 9 : d;
      i += 2;
    }
    return p;
  }
}

function float8OrNull(dv: DataView, p: number, v: number | null): number {
  if (v === null) {
    dv.setInt32(p, -1);
    return p + 4;
  }
  dv.setInt32(p, 8);
  dv.setFloat64(p + 4, v + 0);
  return p + 12;
}

/** Length of the well-formed UTF-8 sequence at s[p] (lead byte >= 0x80), or 0. No closures: this runs per character. */
function utf8Length(s: Buffer, p: number, end: number): number {
  const c = s[p]!;
  if (c >= 0xc2 && c <= 0xdf) return p + 1 < end && isCont(s[p + 1]!, 0x80, 0xbf) ? 2 : 0;
  let lo = 0x80;
  let hi = 0xbf;
  let n = 0;
  if (c >= 0xe0 && c <= 0xef) {
    n = 3;
    if (c === 0xe0) lo = 0xa0;
    else if (c === 0xed) hi = 0x9f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4;
    if (c === 0xf0) lo = 0x90;
    else if (c === 0xf4) hi = 0x8f;
  } else return 0;
  if (p + n > end || !isCont(s[p + 1]!, lo, hi) || !isCont(s[p + 2]!, 0x80, 0xbf)) return 0;
  if (n === 4 && !isCont(s[p + 3]!, 0x80, 0xbf)) return 0;
  return n;
}

function isCont(b: number, lo: number, hi: number): boolean {
  return b >= lo && b <= hi;
}
