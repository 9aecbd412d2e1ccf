// The decoder-matrix cache keeps to its byte budget (MONOSCOPE_MATRIX_CACHE_BYTES): least recently
// used matrices go first, and an SAE whose matrices alone exceed the budget is refused with a
// clear error before anything is loaded.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isAppError } from "../../../src/errors.ts";
import { executeQuery } from "../../../src/graphql/execute.ts";
import { GeometryRepository, type SaeGeometry } from "../../../src/modules/geometry/geometry.repository.ts";
import { MatrixCache, matrixBytesPerFeature } from "../../../src/modules/geometry/matrix-cache.ts";
import { openTestApp, type TestApp } from "../../helpers/backend.ts";
import { rng } from "../../helpers/feature-seed.ts";
import { ingestDecoders } from "../../helpers/geometry-seed.ts";

const N = 200;
const D = 24;
const PER_SAE = N * matrixBytesPerFeature(D, false);
let t: TestApp;
let repo: GeometryRepository;
const sae: Record<string, SaeGeometry> = {};

beforeAll(async () => {
  t = await openTestApp();
  const r = rng(11);
  for (const id of ["a", "b", "c"]) {
    const raw = new Float32Array(N * D).map(() => r() * 2 - 1);
    await ingestDecoders(t.app, { modelId: "mc", saeId: `mc/${id}`, d: D, raw, n: N });
  }
  const big = new Float32Array(3 * N * D).map(() => r() * 2 - 1);
  await ingestDecoders(t.app, { modelId: "mc", saeId: "mc/big", d: D, raw: big, n: 3 * N });
  repo = new GeometryRepository(t.app.db);
  for (const s of await repo.saes(["mc/a", "mc/b", "mc/c", "mc/big"])) sae[s.id.slice(3)] = s;
});
afterAll(async () => t?.close());

describe("matrix cache byte budget", () => {
  it("counts what decoder-matrix.ts holds per feature: float16 rows, no float32 copy, int8 codes once built", async () => {
    const cache = new MatrixCache(repo, null, 10 * PER_SAE);
    const m = await cache.get(sae.a!);
    expect(m.half).toBeInstanceOf(Uint16Array);
    expect(m.half.length).toBe(N * D);
    expect(m.invNorm.length).toBe(N);
    // Nothing of rows × d float32 is held, directly or under another field.
    // (Plain fields only: reading the getters would build the codes.)
    for (const p of Object.values(Object.getOwnPropertyDescriptors(m))) if (p.value instanceof Float32Array) expect(p.value.length).toBeLessThan(N * D);
    expect(m.bytes).toBe(N * (2 * D + 12));
    expect(cache.bytes).toBe(m.bytes);
    void m.quantized; // built on first read (multi-query scans, no native scan)
    expect(m.bytes).toBe(PER_SAE);
    expect(cache.bytes).toBe(PER_SAE);
  });

  it("drops the least recently used matrix past the budget, and keeps the others", async () => {
    const cache = new MatrixCache(repo, null, Math.floor(2.5 * PER_SAE));
    // Every matrix at its full size (int8 codes built), the size the budget is checked against.
    const full = async (s: SaeGeometry) => {
      const m = await cache.get(s);
      void m.quantized;
      return m;
    };
    const a = await full(sae.a!);
    const b = await full(sae.b!);
    expect(await cache.get(sae.a!)).toBe(a); // a is now more recent than b
    await full(sae.c!);
    expect(cache.bytes).toBeLessThanOrEqual(cache.budgetBytes);
    expect(cache.bytes).toBe(2 * PER_SAE);
    expect(await cache.get(sae.a!)).toBe(a);
    expect(await cache.get(sae.b!)).not.toBe(b); // evicted: reloaded
  });

  it("refuses an SAE that alone exceeds the budget, naming the setting, and loads nothing", async () => {
    const cache = new MatrixCache(repo, null, Math.floor(2.5 * PER_SAE));
    const a = await cache.get(sae.a!);
    const err = await cache.get(sae.big!).catch((e: unknown) => e);
    expect(isAppError(err)).toBe(true);
    expect((err as Error).message).toMatch(/SAE "mc\/big" needs up to .* GiB .*600 features × d_in 24 .*MONOSCOPE_MATRIX_CACHE_BYTES/);
    expect(cache.bytes).toBe(a.bytes);
    expect(await cache.get(sae.a!)).toBeDefined();
  });

  it("reaches the API as a clear GraphQL error, not an internal one", async () => {
    const small = await openTestApp({ MONOSCOPE_MATRIX_CACHE_BYTES: String(PER_SAE) });
    try {
      const raw = new Float32Array(2 * N * D).map((_, i) => Math.sin(i));
      await ingestDecoders(small.app, { modelId: "mc", saeId: "mc/two", d: D, raw, n: 2 * N });
      const r = await executeQuery(small.app, `{ nearestToVector(saeIds: ["mc/two"], vector: [${Array(D).fill(0.1).join(",")}], k: 3) { feature { index } } }`);
      const [e] = (r.errors ?? []) as { message: string; extensions?: { code?: string } }[];
      expect(e?.extensions?.code).toBe("BAD_USER_INPUT");
      expect(e?.message).toMatch(/MONOSCOPE_MATRIX_CACHE_BYTES/);
    } finally {
      await small.close();
    }
  });
});
