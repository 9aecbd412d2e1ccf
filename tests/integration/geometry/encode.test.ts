// encodeVector on both backends, both paths (database scan and in-memory matrix), for
// standard, topk and jumprelu SAEs, against a float64 brute-force encoder written here.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EncodeRepository } from "../../../src/modules/encode/encode.repository.ts";
import { EncodeService } from "../../../src/modules/encode/encode.service.ts";
import { executeQuery } from "../../../src/graphql/execute.ts";
import { silentLogger } from "../../../src/logger.ts";
import { openTestApp, type TestApp } from "../../helpers/backend.ts";
import { rng } from "../../helpers/feature-seed.ts";
import { type RandomSae, seedRandomSae } from "../../helpers/random-sae.ts";

const N = 300;
const D = 24;
let t: TestApp;
const saes: Record<string, RandomSae & { arch: string; k: number | null; applyBDec: boolean }> = {};

beforeAll(async () => {
  t = await openTestApp();
  const specs = [
    { id: "enc/standard", arch: "standard", k: null, applyBDec: true },
    { id: "enc/standard-nobdec", arch: "standard", k: null, applyBDec: false },
    { id: "enc/topk", arch: "topk", k: 7, applyBDec: true },
    { id: "enc/jumprelu", arch: "jumprelu", k: null, applyBDec: true },
  ];
  for (const [i, s] of specs.entries()) {
    const sae = await seedRandomSae(t.app, { saeId: s.id, n: N, dIn: D, architecture: s.arch, k: s.k, applyBDecToInput: s.applyBDec, seed: 100 + i });
    saes[s.id] = { ...sae, arch: s.arch, k: s.k, applyBDec: s.applyBDec };
  }
  await seedRandomSae(t.app, { saeId: "enc/no-encoder", n: 5, dIn: D, encoder: false });
  await seedRandomSae(t.app, { saeId: "enc/gated", n: 5, dIn: D, architecture: "gated" });
});
afterAll(async () => t?.close());

/** The brute-force reference: every feature's activation in float64, then the top k. */
function reference(s: (typeof saes)[string], x: number[], k: number) {
  const xin = x.map((v, j) => v - (s.applyBDec ? s.bDec[j]! : 0));
  const pre = s.encoder.map((e, i) => e.reduce((acc, w, j) => acc + w * xin[j]!, 0) + s.bEnc[i]!);
  let act: number[];
  if (s.arch === "topk") {
    const top = new Set(pre.map((p, i) => [p, i] as const).sort((a, b) => b[0] - a[0]).slice(0, s.k!).map(([, i]) => i));
    act = pre.map((p, i) => (top.has(i) ? Math.max(0, p) : 0));
  } else if (s.arch === "jumprelu") {
    act = pre.map((p, i) => (p > s.threshold[i]! ? Math.max(0, p) : 0));
  } else {
    act = pre.map((p) => Math.max(0, p));
  }
  const firing = act.map((a, index) => ({ index, activation: a })).filter((h) => h.activation > 0);
  return { pre, firing: firing.sort((a, b) => b.activation - a.activation).slice(0, k) };
}

function randomVector(seed: number) {
  const r = rng(seed);
  return Array.from({ length: D }, () => Math.fround((r() * 2 - 1) * 2));
}

const modes = ["database", "memory"] as const;

describe.each(modes)("encode (%s path) refuses values float32 cannot hold", (mode) => {
  const service = () => new EncodeService(new EncodeRepository(t.app.db), { maxK: 1000, log: silentLogger, mode });
  const withValue = (v: number, at = 3) => randomVector(9).map((x, i) => (i === at ? v : x));

  it.each([
    [1e300, 2],
    [-1e308, 0],
    [1e200, D - 1],
  ])("%d at index %d", async (v, at) => {
    const err = await service().encode("enc/standard", withValue(v, at), 10).catch((e) => e);
    expect(err).toMatchObject({ code: "BAD_USER_INPUT" });
    expect(err.message).toBe(`vector[${at}] = ${v} is outside float32's range (±3.4e38)`);
  });

  it("refuses an overflowing value on every request (first from the database, then from memory)", async () => {
    const svc = service();
    // Both calls: the first would answer from the database, later ones from memory in 'auto' mode.
    for (let i = 0; i < 2; i++) {
      const err = await svc.encode("enc/standard", randomVector(4).map((x, j) => (j % 5 === 0 ? 1e300 : x)), 5).catch((e) => e);
      expect(err.code).toBe("BAD_USER_INPUT");
    }
    // Within range still encodes, including float32's largest finite values.
    await expect(svc.encode("enc/standard", withValue(3.4e38), 5)).resolves.toBeInstanceOf(Array);
  });
});

describe.each(modes)("encode (%s path)", (mode) => {
  const service = () => new EncodeService(new EncodeRepository(t.app.db), { maxK: 1000, log: silentLogger, mode });

  it.each(["enc/standard", "enc/standard-nobdec", "enc/topk", "enc/jumprelu"])("%s matches the brute-force encoder", async (id) => {
    const s = saes[id]!;
    const svc = service();
    for (const [trial, k] of [5, 20, 1000].entries()) {
      const x = randomVector(1000 * trial + id.length);
      const ref = reference(s, x, k);
      const got = await svc.encode(id, x, k);
      expect(got.map((h) => h.index)).toEqual(ref.firing.map((h) => h.index));
      got.forEach((h, i) => expect(h.activation).toBeCloseTo(ref.firing[i]!.activation, 4));
      if (s.arch === "topk") expect(got.length).toBeLessThanOrEqual(s.k!);
      if (s.arch === "jumprelu" && k === 1000) {
        // The threshold mattered: some features have 0 < pre <= threshold and were left out.
        expect(ref.pre.some((p, i) => p > 0 && p <= s.threshold[i]!)).toBe(true);
      }
    }
  });
});

describe("encodeVector over GraphQL", () => {
  const q = (query: string, variables?: Record<string, unknown>) => executeQuery(t.app, query, variables);
  const code = (r: { errors?: readonly unknown[] }) => (r.errors?.[0] as { extensions?: { code?: string } })?.extensions?.code;
  const message = (r: { errors?: readonly unknown[] }) => (r.errors?.[0] as { message?: string })?.message;
  const doc = `query($s: ID!, $v: [Float!]!, $k: Int) { encodeVector(saeId: $s, vector: $v, k: $k) { feature { id index } activation } }`;

  it("returns firing features strongest first, the same on the first (database) and later (memory) requests", async () => {
    const x = randomVector(5);
    const ref = reference(saes["enc/standard"]!, x, 10);
    for (let i = 0; i < 3; i++) {
      const r = await q(doc, { s: "enc/standard", v: x, k: 10 });
      expect(r.errors).toBeUndefined();
      const got = (r.data as any).encodeVector;
      expect(got.map((h: any) => h.feature.index)).toEqual(ref.firing.map((h) => h.index));
      expect(got[0].feature.id).toBe(`enc/standard:${ref.firing[0]!.index}`);
      expect(got[0].activation).toBeCloseTo(ref.firing[0]!.activation, 4);
    }
  });

  it("answers BAD_USER_INPUT for values that overflow float32", async () => {
    for (const v of [1e300, -1e308, 1e200]) {
      const r = await q(doc, { s: "enc/standard", v: randomVector(2).map((x, i) => (i === 1 ? v : x)) });
      expect(code(r)).toBe("BAD_USER_INPUT");
      expect(message(r)).toMatch(/vector\[1\] = .* is outside float32's range/);
    }
  });

  it("rejects a vector of the wrong length, an unknown SAE, a bad k, and SAEs it cannot encode", async () => {
    let r = await q(doc, { s: "enc/standard", v: [1, 2, 3] });
    expect(code(r)).toBe("BAD_USER_INPUT");
    expect(message(r)).toBe(`vector has 3 values; SAE "enc/standard" has dIn = ${D}`);
    r = await q(doc, { s: "enc/missing", v: randomVector(1) });
    expect(code(r)).toBe("NOT_FOUND");
    r = await q(doc, { s: "enc/standard", v: randomVector(1), k: 0 });
    expect(code(r)).toBe("BAD_USER_INPUT");
    r = await q(doc, { s: "enc/no-encoder", v: randomVector(1) });
    expect(code(r)).toBe("BAD_USER_INPUT");
    expect(message(r)).toMatch(/has no stored encoder weights/);
    r = await q(doc, { s: "enc/gated", v: randomVector(1) });
    expect(code(r)).toBe("BAD_USER_INPUT");
    expect(message(r)).toMatch(/supports standard, topk and jumprelu SAEs; "enc\/gated" is "gated"/);
  });
});
