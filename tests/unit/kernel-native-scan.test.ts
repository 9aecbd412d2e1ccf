import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { ASYNC_SCAN_BYTES, NATIVE_SCAN_PATH, loadNativeScan, nativeScanUnavailable } from "../../src/kernel/native-scan.ts";
import { loadConfig } from "../../src/config.ts";
import { decodeRange, decodeRows, decoderMatrixFromFloats } from "../../src/modules/geometry/decoder-matrix.ts";
import { seededRandom } from "../../src/util/random.ts";

const cpuFlags = (() => {
  try {
    return new Set((/^flags\s*:(.*)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? "").trim().split(/\s+/));
  } catch {
    return new Set<string>();
  }
})();
const expectedVariant = cpuFlags.has("avx512_vnni") && cpuFlags.has("avx512bw") ? "avx512vnni" : cpuFlags.has("avx2") && cpuFlags.has("fma") ? "avx2" : null;
const nativeEnabled = loadConfig().kernel.nativeScan;
const native = loadNativeScan(nativeEnabled);

/** n unit rows of dimension d; every 10th row is a near-copy of the one before (real neighbours). */
function unitRows(n: number, d: number, seed: number): Float32Array {
  const r = seededRandom(seed);
  const m = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) m[i * d + j] = i % 10 === 9 ? m[(i - 1) * d + j] + 0.3 * (r() - 0.5) / Math.sqrt(d) : r() * 2 - 1;
    let s = 0;
    for (let j = 0; j < d; j++) s += m[i * d + j] ** 2;
    for (let j = 0; j < d; j++) m[i * d + j] /= Math.sqrt(s);
  }
  return m;
}

function exactScores(m: Float32Array, n: number, d: number, q: Float32Array): Float32Array {
  const s = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let a = 0;
    for (let j = 0; j < d; j++) a += m[i * d + j] * q[j];
    s[i] = a;
  }
  return s;
}

/**
 * The float16 form the kernel takes (decoder-matrix.ts): each row rounded to float16 bits, with its
 * 1/‖row‖. Overwrites m with the unit rows the kernel decodes from them, so the test's own float32
 * arithmetic sees the same rows.
 */
function f16(m: Float32Array, d: number): [Uint16Array, Float32Array] {
  const mm = decoderMatrixFromFloats("t", m, m.length / d, d);
  expect(mm.rows).toBe(m.length / d);
  decodeRange(mm, 0, mm.rows, m);
  return [mm.half, mm.invNorm];
}

const p0 = () => createRequire(import.meta.url)(NATIVE_SCAN_PATH).pack(...f16(new Float32Array(8).fill(0.5), 8), 1, 8);

describe("native 4-bit scan", () => {
  it("is built and in use wherever the CPU supports it (the install builds it), on its best kernel", () => {
    if (process.env.MONOSCOPE_NATIVE === "0") expect(nativeScanUnavailable(nativeEnabled)).toBe("MONOSCOPE_NATIVE=0");
    else if (expectedVariant) expect(native?.variant, String(nativeScanUnavailable(nativeEnabled))).toBe(expectedVariant);
    else expect(native).toBeNull();
  });

  for (const d of [100, 256, 768]) {
    it.skipIf(!native)(`approximates dot products and keeps the exact top 10 among its candidates (d=${d})`, async () => {
      const n = 3000;
      const m = unitRows(n, d, d);
      const packed = native!.pack(...f16(m, d), n, d);
      expect(packed.packed.length).toBe(n * Math.ceil(d / 128) * 64);
      const r = seededRandom(7);
      let hits = 0;
      let worst = 0;
      for (let t = 0; t < 20; t++) {
        const base = Math.floor(r() * n);
        const q = new Float32Array(d);
        for (let j = 0; j < d; j++) q[j] = m[base * d + j] + 0.05 * (r() - 0.5);
        const exact = exactScores(m, n, d, q);
        const got = await native!.topK(packed, q, 74);
        expect(got.rows.length).toBe(74);
        expect(new Set(got.rows).size).toBe(74);
        for (let i = 1; i < got.scores.length; i++) expect(got.scores[i]).toBeLessThanOrEqual(got.scores[i - 1]);
        got.rows.forEach((row, i) => (worst = Math.max(worst, Math.abs(got.scores[i] - exact[row]))));
        const top = Array.from(exact.keys()).sort((a, b) => exact[b] - exact[a]).slice(0, 10);
        hits += top.filter((x) => got.rows.includes(x)).length;
      }
      expect(worst).toBeLessThan(0.03);
      expect(hits / 200).toBeGreaterThanOrEqual(0.99);
    });
  }

  /** Row r of 4-bit codes in pack()'s block layout, decoded: (code - 8) · scale per 128-dimension block. */
  function decode(codes: Uint8Array, scales: Float32Array, r: number, d: number): Float64Array {
    const blocks = Math.ceil(d / 128);
    const out = new Float64Array(d);
    for (let b = 0; b < blocks; b++) {
      for (let i = 0; i < 64; i++) {
        const byte = codes[(r * blocks + b) * 64 + i];
        const lo = b * 128 + (i < 32 ? i : i + 32);
        const s = scales[r * blocks + b];
        if (lo < d) out[lo] = ((byte & 15) - 8) * s;
        if (lo + 32 < d) out[lo + 32] = ((byte >> 4) - 8) * s;
      }
    }
    return out;
  }

  for (const d of [100, 768]) {
    it.skipIf(!native)(`packs a residual code whose error bounds hold (d=${d}): err ≥ ‖x − x̂‖, err2 ≥ ‖x − x̂ − r̂‖, err2 far below err`, () => {
      const n = 200;
      const m = unitRows(n, d, 40 + d);
      // Rows that stress the per-block scale search: one spike, a constant row, a spike over small noise.
      m.fill(0, 0, d);
      m[3] = 1;
      m.fill(1 / Math.sqrt(d), d, 2 * d);
      for (let j = 0; j < d; j++) m[2 * d + j] = j === 7 ? 0.9 : (j % 2 ? 1 : -1) * Math.sqrt((1 - 0.81) / (d - 1));
      const p = native!.pack(...f16(m, d), n, d);
      expect(p.resid.length).toBe(p.packed.length);
      expect(p.rscales.length).toBe(p.scales.length);
      let ratio = 0;
      for (let r = 0; r < n; r++) {
        const x4 = decode(p.packed, p.scales, r, d);
        const xr = decode(p.resid, p.rscales, r, d);
        let e4 = 0;
        let e2 = 0;
        for (let j = 0; j < d; j++) {
          e4 += (m[r * d + j] - x4[j]) ** 2;
          e2 += (m[r * d + j] - x4[j] - xr[j]) ** 2;
        }
        expect(p.err[r]).toBeGreaterThanOrEqual(Math.sqrt(e4));
        expect(p.err[r]).toBeLessThan(Math.sqrt(e4) * 1.001 + 1e-6);
        expect(p.err2[r]).toBeGreaterThanOrEqual(Math.sqrt(e2));
        expect(p.err2[r]).toBeLessThan(Math.sqrt(e2) * 1.001 + 1e-6);
        if (r >= 3) ratio = Math.max(ratio, p.err2[r] / p.err[r]);
      }
      expect(p.err[0]).toBeLessThan(1e-5); // a spike is exact on the 4-bit grid
      expect(ratio).toBeLessThan(0.25);
    });
  }

  it.skipIf(!native)("returns every row when k exceeds them, and nothing for k = 0", async () => {
    const m = unitRows(5, 64, 3);
    const packed = native!.pack(...f16(m, 64), 5, 64);
    const q = m.slice(2 * 64, 3 * 64);
    const all = await native!.topK(packed, q, 50);
    expect([...all.rows].sort()).toEqual([0, 1, 2, 3, 4]);
    expect(all.rows[0]).toBe(2);
    expect((await native!.topK(packed, q, 0)).rows.length).toBe(0);
    await expect(native!.topK(packed, new Float32Array(10), 3)).rejects.toThrow(/query has 10 floats/);
  });

  it.skipIf(native?.variant !== "avx512vnni")("the AVX2 kernel agrees with the AVX-512 one (same codes, same candidates)", () => {
    const addon = createRequire(import.meta.url)(NATIVE_SCAN_PATH);
    for (const d of [100, 768]) {
      const n = 5000;
      const m = unitRows(n, d, d + 1);
      const p = addon.pack(...f16(m, d), n, d);
      const r = seededRandom(d);
      for (let t = 0; t < 10; t++) {
        const q = new Float32Array(d);
        for (let j = 0; j < d; j++) q[j] = r() * 2 - 1;
        const wide = addon.scan(p.packed, p.scales, n, d, q, 50, 2);
        const narrow = addon.scan(p.packed, p.scales, n, d, q, 50, 2, "avx2");
        // Integer sums are identical; only the float accumulation order differs.
        const byRow = new Map<number, number>(Array.from(wide.rows as Int32Array, (row, i) => [row, wide.scores[i]]));
        let shared = 0;
        (narrow.rows as Int32Array).forEach((row, i) => {
          if (!byRow.has(row)) return;
          shared++;
          expect(Math.abs(byRow.get(row)! - narrow.scores[i])).toBeLessThan(1e-4);
        });
        expect(shared).toBeGreaterThanOrEqual(48);
      }
    }
    expect(() => addon.scan(p0().packed, p0().scales, 1, 8, new Float32Array(8), 1, 1, "sse2")).toThrow(/unknown or unsupported variant/);
  });

  it.skipIf(native?.variant !== "avx512vnni")("certified top k: the AVX2 tiers give the exact answer too, with or without the residual tier", () => {
    const addon = createRequire(import.meta.url)(NATIVE_SCAN_PATH);
    const n = 9000;
    const d = 256;
    const m = unitRows(n, d, 77);
    const [half, inv] = f16(m, d);
    const p = addon.pack(half, inv, n, d);
    const r = seededRandom(78);
    for (let t = 0; t < 6; t++) {
      const q = new Float32Array(d);
      for (let j = 0; j < d; j++) q[j] = t % 2 ? m[(t * 1000 + 9) * d + j] + 0.02 * (r() - 0.5) : r() * 2 - 1;
      const exact = exactScores(m, n, d, q);
      const want = Array.from(exact.keys()).sort((a, b) => exact[b] - exact[a] || a - b).slice(0, 10);
      const call = (threads: number, variant?: string, resid = true) =>
        addon.exactTopK(p.packed, p.scales, p.err, resid ? p.resid : null, resid ? p.rscales : null, resid ? p.err2 : null, half, inv, n, d, q, 10, -1, threads, false, variant);
      // Two threads share thresholds as they go (how much each screens depends on timing); one is deterministic.
      const runs = [call(2), call(2, "avx2"), call(1), call(1, "avx2"), call(1, "avx2", false)];
      for (const got of runs) {
        expect(Array.from(got.rows)).toEqual(want);
        expect(got.reranked).toBeGreaterThanOrEqual(10);
      }
      // The residual tier rules rows out that the 4-bit bound kept, so fewer reach the float32 product.
      // (Same integer sums on both kernels; only float accumulation differs, which can move a row at the threshold.)
      expect(Math.abs(runs[3].screened - runs[2].screened)).toBeLessThanOrEqual(2);
      expect(runs[4].screened).toBe(0);
      expect(runs[3].reranked).toBeLessThanOrEqual(runs[4].reranked);
    }
    expect(() => addon.exactTopK(p.packed, p.scales, p.err, p.resid, p.rscales, p.err2, half, inv, n, d, new Float32Array(d), 10, -1, 1, false, "sse2")).toThrow(/unknown or unsupported variant/);
  });

  it.skipIf(!native)("scans large matrices off the event loop, with the same answer", async () => {
    const addon = createRequire(import.meta.url)(NATIVE_SCAN_PATH);
    const n = 60_000;
    const d = 768;
    const m = unitRows(n, d, 21);
    const p = addon.pack(...f16(m, d), n, d);
    expect(p.packed.byteLength).toBeGreaterThanOrEqual(ASYNC_SCAN_BYTES);
    const q = m.slice(123 * d, 124 * d);
    const sync = addon.scan(p.packed, p.scales, n, d, q, 30, 2);
    // The event loop runs timers while scans are in flight (several, so at least one is running).
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    const pending = Array.from({ length: 20 }, () => native!.topK({ packed: p.packed, scales: p.scales, err: p.err, resid: p.resid, rscales: p.rscales, err2: p.err2, rows: n, d, bytes: 0 }, q, 30));
    const results = await Promise.all(pending);
    clearInterval(timer);
    for (const r of results) {
      expect(Array.from(r.rows)).toEqual(Array.from(sync.rows));
      expect(Array.from(r.scores)).toEqual(Array.from(sync.scores));
    }
    expect(ticks).toBeGreaterThan(0);
    // Bad arguments are refused before any work is queued.
    expect(() => addon.scanAsync(p.packed, p.scales, n + 1, d, q, 30, 2)).toThrow(/shorter than rows/);
  });

  it.skipIf(!native)("computes the exact re-rank dot products (any d, NaN for rows outside the matrix)", () => {
    for (const d of [13, 100, 768]) {
      const n = 300;
      const m = unitRows(n, d, d + 5);
      const [half, inv] = f16(m, d);
      const qRows = 3;
      const q = m.slice(0, qRows * d);
      const per = 4;
      const rows = Int32Array.from({ length: qRows * per }, (_, i) => (i * 37) % n);
      rows[5] = -1;
      rows[6] = n;
      const out = native!.dots(q, qRows, d, half, inv, rows, per);
      expect(out).toHaveLength(qRows * per);
      rows.forEach((row, i) => {
        if (row < 0 || row >= n) return expect(out[i]).toBeNaN();
        const c = Math.floor(i / per);
        let s = 0;
        for (let j = 0; j < d; j++) s += q[c * d + j] * m[row * d + j];
        expect(out[i]).toBeCloseTo(s, 5);
      });
      // rows null: every row, for each query (the exhaustive exact scan), the same values.
      const all = native!.dots(q, 2, d, half, inv, null, n);
      expect(all).toHaveLength(2 * n);
      const listed = native!.dots(q, 2, d, half, inv, Int32Array.from({ length: 2 * n }, (_, i) => i % n), n);
      expect(Array.from(all)).toEqual(Array.from(listed));
    }
    expect(() => native!.dots(new Float32Array(4), 2, 4, new Uint16Array(8), new Float32Array(2), new Int32Array(2), 1)).toThrow(/shorter than qRows/);
    expect(() => native!.dots(new Float32Array(4), 1, 4, new Float32Array(8) as unknown as Uint16Array, new Float32Array(2), new Int32Array(1), 1)).toThrow(/half must be a Uint16Array/);
  });

  it.skipIf(!native)("decodes float16 rows to the same unit rows as the JavaScript decoder, bit for bit", () => {
    for (const d of [13, 768]) {
      const n = 50;
      const raw = unitRows(n, d, d + 9).map((x, i) => x * (1 + (i % 7)) * (i % 11 === 0 ? 1e-4 : 1)); // not unit, some tiny (subnormal float16)
      const js = decoderMatrixFromFloats("t", raw, n, d);
      const nat = decoderMatrixFromFloats("t", raw, n, d, { native });
      expect(Array.from(decodeRange(nat, 0, n))).toEqual(Array.from(decodeRange(js, 0, n)));
      const rows = [7, 3, 49, 0, 3];
      expect(Array.from(decodeRows(nat, rows))).toEqual(Array.from(decodeRows(js, rows)));
      const out = new Float32Array(7 * d).fill(9);
      decodeRows(nat, rows, out, 2);
      expect(Array.from(out.subarray(0, 2 * d))).toEqual(Array(2 * d).fill(9));
      expect(Array.from(out.subarray(2 * d))).toEqual(Array.from(decodeRows(js, rows)));
      expect(() => native!.decode(nat.half, nat.invNorm, Int32Array.of(n), 0, 1, d, new Float32Array(d))).toThrow(/outside the matrix/);
      expect(() => native!.decode(nat.half, nat.invNorm, null, n - 1, 2, d, new Float32Array(2 * d))).toThrow(/outside the matrix/);
      expect(() => native!.decode(nat.half, nat.invNorm, null, 0, 2, d, new Float32Array(d))).toThrow(/out is shorter/);
    }
  });

  it.skipIf(!native)("gives the same answer on one thread and on several", () => {
    const addon = createRequire(import.meta.url)(NATIVE_SCAN_PATH);
    const n = 20_000;
    const d = 128;
    const m = unitRows(n, d, 11);
    const p = addon.pack(...f16(m, d), n, d);
    const q = m.slice(77 * d, 78 * d);
    const one = addon.scan(p.packed, p.scales, n, d, q, 40, 1);
    const four = addon.scan(p.packed, p.scales, n, d, q, 40, 4);
    expect(Array.from(four.rows)).toEqual(Array.from(one.rows));
    expect(Array.from(four.scores)).toEqual(Array.from(one.scores));
    expect(one.rows[0]).toBe(77);
    expect(() => addon.scan(p.packed, p.scales, n + 1, d, q, 40, 1)).toThrow(/shorter than rows/);
  });
});
