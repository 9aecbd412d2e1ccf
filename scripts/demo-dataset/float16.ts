// Half-precision output for the demo artifacts, over the project's float16 codec
// (round to nearest even, the same code the importer uses to read F16 back).
import { halfBitsToFloat, toHalfBits } from "../../src/shared/float16.ts";

/** Little-endian half-precision bytes of a float32 array. */
export function toHalfBytes(values: Float32Array): Uint8Array {
  const out = new Uint8Array(values.length * 2);
  for (let i = 0; i < values.length; i++) {
    const h = toHalfBits(values[i]);
    out[2 * i] = h & 0xff;
    out[2 * i + 1] = h >>> 8;
  }
  return out;
}

/** Rounds in place to the nearest half-precision value (so saved weights are the ones used). */
export function roundToHalf(values: Float32Array): void {
  for (let i = 0; i < values.length; i++) values[i] = halfBitsToFloat(toHalfBits(values[i]));
}
