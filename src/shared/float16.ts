// IEEE 754 half precision <-> single precision, for pgvector's halfvec binary format
// and for reading F16/BF16 safetensors. Node 20 has no Math.f16round.

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The float16 bit pattern of x, rounded to nearest even (overflow -> +-Infinity). */
export function toHalfBits(x: number): number {
  f32[0] = x;
  return halfFromBits(u32[0]!);
}

/**
 * The float16 bit pattern of the float32 with these bits, rounded to nearest even
 * (F. Giesen's float_to_half_fast3_rtne: integer adds instead of shifts and branches).
 */
export function halfFromBits(bits: number): number {
  const sign = (bits >>> 16) & 0x8000;
  const f = bits & 0x7fffffff;
  if (f >= 0x47800000) return sign | (f > 0x7f800000 ? 0x7e00 : 0x7c00); // overflow -> inf; NaN stays NaN
  if (f < 0x38800000) {
    // zero or subnormal: let the FPU round, by adding 0.5 (the exponent that lines the mantissa up)
    u32[0] = f;
    f32[0] += 0.5;
    return sign | ((u32[0]! - 0x3f000000) & 0xffff);
  }
  const mantOdd = (f >>> 13) & 1;
  return sign | ((f - 0x38000000 + 0xfff + mantOdd) >>> 13); // rebias the exponent, round, truncate
}

let halfTable: Float32Array | null = null;

/** float16 bits -> number (table of all 65,536 values, built on first use). */
export function halfToFloatTable(): Float32Array {
  if (halfTable) return halfTable;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >>> 10) & 0x1f;
    const mant = h & 0x3ff;
    let v: number;
    if (exp === 0) v = mant * 2 ** -24;
    else if (exp === 0x1f) v = mant ? Number.NaN : Number.POSITIVE_INFINITY;
    else v = (1 + mant / 1024) * 2 ** (exp - 15);
    t[h] = sign * v;
  }
  halfTable = t;
  return t;
}

export function halfBitsToFloat(h: number): number {
  return halfToFloatTable()[h & 0xffff]!;
}

/** Little-endian float16 values (count = bytes / 2) as float32. */
export function decodeFloat16(bytes: Uint8Array): Float32Array {
  const t = halfToFloatTable();
  const n = bytes.length >> 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = t[bytes[2 * i] | (bytes[2 * i + 1] << 8)];
  return out;
}
