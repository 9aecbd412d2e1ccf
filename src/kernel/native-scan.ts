// The optional native 4-bit scan (native/scan4.c, built by scripts/build-native.mjs at install):
// one query against 4-bit block-quantised rows (AVX-512 VNNI, or AVX2 + FMA), half the bytes of
// the int8 scan, which is what bounds a single query against a large matrix. Rows come in as the
// stored float16 values with one 1/‖row‖ each (decoder-matrix.ts); the kernel decodes them (F16C). Used for
// nearest-to-vector candidates when it is built and the CPU has one of those; otherwise the int8
// ONNX Runtime scan serves (same results after the exact re-rank). MONOSCOPE_NATIVE=0 turns it off
// (config.kernel.nativeScan); the composition root loads it once and hands it to the geometry module.
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { packagePath } from "../paths.ts";

/** Rows packed by the native module: value = (code - 8) · scale, 128-dimension blocks. */
export interface Packed4Rows {
  packed: Uint8Array;
  scales: Float32Array;
  /** Per row ‖x − x̂‖₂, the quantisation error that bounds the row's score error (exactTopK). */
  err: Float32Array;
  /** A 4-bit code of each row's remaining error x − x̂, same layout, scales rscales (exactTopK's second tier). */
  resid: Uint8Array;
  rscales: Float32Array;
  /** Per row ‖x − x̂ − r̂‖₂: the error left after the residual code. */
  err2: Float32Array;
  rows: number;
  d: number;
  bytes: number;
}

/** A certified exact top-k: the rows, their float32 dot products, and how much work it took. */
export interface ExactTopK {
  rows: Int32Array;
  scores: Float32Array;
  /** Rows whose float32 dot product was computed (the re-ranked candidates). */
  reranked: number;
  /** Rows that passed the 4-bit bound but were ruled out by their bound with the residual code. */
  screened: number;
}

export type NativeVariant = "avx512vnni" | "avx2";

export interface NativeScan {
  /** The instruction set the kernel runs on here. */
  variant: NativeVariant;
  /** Packs the unit rows f32(half) · invNorm (half: rows × d float16 bit patterns, decoder-matrix.ts). */
  pack(half: Uint16Array, invNorm: Float32Array, rows: number, d: number): Packed4Rows;
  /**
   * The k rows with the largest approximate dot product with q (d floats), best first. Large
   * matrices are scanned on a libuv worker thread, so the event loop keeps serving meanwhile.
   */
  topK(m: Packed4Rows, q: Float32Array, k: number): Promise<{ rows: Int32Array; scores: Float32Array }>;
  /**
   * Exact float32 dot products for re-ranking: out[c·per + t] = q[c] · x[rows[c·per + t]] for the
   * unit rows x = f32(half) · invNorm (q is qRows × d, half n × d; NaN where a row index is outside;
   * rows null: rows 0..per-1 for every query). The same arithmetic as exactTopK's re-rank, bit for bit.
   */
  dots(q: Float32Array, qRows: number, d: number, half: Uint16Array, invNorm: Float32Array, rows: Int32Array | null, per: number): Float32Array;
  /**
   * The exact top k unit rows f32(half) · invNorm (packed as m) by float32 dot product with q,
   * ties to the lower row, leaving out row `exclude` (-1: none). Candidates come from the 4-bit
   * scan; every row whose error bound could still beat the k-th exact score is re-ranked (rows
   * passing the 4-bit bound meet the tighter one of the 4-bit + residual code first), so the
   * answer equals the exhaustive scan's. The bound's argument is in native/scan4.c (exact_core).
   */
  exactTopK(m: Packed4Rows, half: Uint16Array, invNorm: Float32Array, q: Float32Array, k: number, exclude: number): Promise<ExactTopK>;
  /**
   * The unit rows f32(half) · invNorm of `rows` (or, when null, start..start+count-1) into out
   * (count × d floats), the same values decoder-matrix.ts decodes in JavaScript, at memory speed (F16C).
   */
  decode(half: Uint16Array, invNorm: Float32Array, rows: Int32Array | null, start: number, count: number, d: number, out: Float32Array): Float32Array;
}

/**
 * Bytes pack() produces for rows × d: per 128-dimension block 64 code bytes and a float scale,
 * twice (the codes and their residual), and two float error bounds per row.
 */
export const packedBytes = (rows: number, d: number) => rows * (2 * Math.ceil(d / 128) * (64 + 4) + 8);

/** Code bytes from which a scan leaves the event loop (~0.3 ms of reading; below, the hop costs more than it frees). */
export const ASYNC_SCAN_BYTES = 8 * 1024 * 1024;

interface Addon {
  variant(): NativeVariant | "none";
  pack(half: Uint16Array, invNorm: Float32Array, rows: number, d: number): {
    packed: Uint8Array; scales: Float32Array; err: Float32Array; resid: Uint8Array; rscales: Float32Array; err2: Float32Array; dPad: number;
  };
  scan(packed: Uint8Array, scales: Float32Array, rows: number, d: number, q: Float32Array, k: number, threads: number): { rows: Int32Array; scores: Float32Array };
  scanAsync(packed: Uint8Array, scales: Float32Array, rows: number, d: number, q: Float32Array, k: number, threads: number): Promise<{ rows: Int32Array; scores: Float32Array }>;
  dots(q: Float32Array, qRows: number, d: number, half: Uint16Array, invNorm: Float32Array, rows: Int32Array | null, per: number): Float32Array;
  exactTopK(
    packed: Uint8Array, scales: Float32Array, err4: Float32Array, resid: Uint8Array | null, rscales: Float32Array | null, err2: Float32Array | null,
    half: Uint16Array, invNorm: Float32Array, rows: number, d: number, q: Float32Array, k: number, exclude: number, threads: number, async: boolean,
  ): ExactTopK | Promise<ExactTopK>;
  decode(half: Uint16Array, invNorm: Float32Array, rows: Int32Array | null, start: number, count: number, d: number, out: Float32Array): Float32Array;
}

export const NATIVE_SCAN_PATH = packagePath("build", "native", "scan4.node");

/** Why the native scan is not in use, or null when it is; `enabled` is config.kernel.nativeScan. */
export function nativeScanUnavailable(enabled = true): string | null {
  if (!enabled) return "MONOSCOPE_NATIVE=0";
  if (!existsSync(NATIVE_SCAN_PATH)) return `${NATIVE_SCAN_PATH} is not built (npm run build:native)`;
  return null;
}

/**
 * Loads the native scan: null when it is turned off, not built, or the CPU has neither AVX-512
 * VNNI nor AVX2. Each call loads anew (Node caches the addon itself); keep the result.
 */
export function loadNativeScan(enabled = true): NativeScan | null {
  if (nativeScanUnavailable(enabled)) return null;
  let addon: Addon;
  try {
    addon = createRequire(import.meta.url)(NATIVE_SCAN_PATH) as Addon;
  } catch (err) {
    process.emitWarning(`native scan failed to load, using the int8 scan: ${(err as Error).message}`);
    return null;
  }
  const variant = addon.variant();
  if (variant === "none") return null;
  const threads = Math.max(1, availableParallelism());
  return {
    variant,
    pack(half, invNorm, rows, d) {
      const p = addon.pack(half, invNorm, rows, d);
      const bytes = p.packed.byteLength + p.scales.byteLength + p.err.byteLength + p.resid.byteLength + p.rscales.byteLength + p.err2.byteLength;
      return { packed: p.packed, scales: p.scales, err: p.err, resid: p.resid, rscales: p.rscales, err2: p.err2, rows, d, bytes };
    },
    async topK(m, q, k) {
      if (q.length < m.d) throw new RangeError(`query has ${q.length} floats, expected ${m.d}`);
      const query = q.length === m.d ? q : q.subarray(0, m.d);
      const kk = Math.min(k, m.rows);
      return m.packed.byteLength >= ASYNC_SCAN_BYTES
        ? addon.scanAsync(m.packed, m.scales, m.rows, m.d, query, kk, threads)
        : addon.scan(m.packed, m.scales, m.rows, m.d, query, kk, threads);
    },
    dots: (q, qRows, d, half, invNorm, rows, per) => addon.dots(q, qRows, d, half, invNorm, rows, per),
    decode: (half, invNorm, rows, start, count, d, out) => addon.decode(half, invNorm, rows, start, count, d, out),
    async exactTopK(m, half, invNorm, q, k, exclude) {
      if (q.length < m.d) throw new RangeError(`query has ${q.length} floats, expected ${m.d}`);
      const query = q.length === m.d ? q : q.subarray(0, m.d);
      const big = m.packed.byteLength >= ASYNC_SCAN_BYTES;
      return addon.exactTopK(m.packed, m.scales, m.err, m.resid, m.rscales, m.err2, half, invNorm, m.rows, m.d, query, k, exclude, threads, big);
    },
  };
}
