// The one codec between JavaScript number arrays and pgvector's text format.
import { AppError, ErrorCode } from "../errors.ts";

export type Vec = ArrayLike<number>;

/** '[0.1,0.2,...]' for vector/halfvec parameters (cast in SQL: $1::halfvec). */
export function toVectorLiteral(v: Vec): string {
  let out = "[";
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (!Number.isFinite(x)) throw new AppError(ErrorCode.BAD_USER_INPUT, `vector component ${i} is not a finite number`);
    if (i) out += ",";
    out += String(x);
  }
  return out + "]";
}

export function parseVectorLiteral(text: string): Float32Array {
  const body = text.trim().replace(/^\[/, "").replace(/\]$/, "");
  if (body === "") return new Float32Array(0);
  const parts = body.split(",");
  const out = new Float32Array(parts.length);
  for (let i = 0; i < parts.length; i++) out[i] = Number(parts[i]);
  return out;
}

export function l2norm(v: Vec): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}

/** Unit-normalised copy; a zero vector stays zero. */
export function normalize(v: Vec): Float32Array {
  const n = l2norm(v);
  const out = new Float32Array(v.length);
  if (n > 0) for (let i = 0; i < v.length; i++) out[i] = v[i] / n;
  return out;
}
