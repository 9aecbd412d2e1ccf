// A feature whose decoder row is all zeros has no direction, so no neighbours: it gets an
// empty list, and the other features of the same page keep theirs (one such row used to
// fail the whole batch, data: null for every feature on the page).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { executeQuery } from "../../../src/graphql/execute.ts";
import { openTestApp, type TestApp } from "../../helpers/backend.ts";
import { rng } from "../../helpers/feature-seed.ts";
import { ingestDecoders } from "../../helpers/geometry-seed.ts";

const N = 40;
const D = 16;
const ZERO = 3;
let t: TestApp;

beforeAll(async () => {
  t = await openTestApp();
  const r = rng(7);
  const raw = new Float32Array(N * D).map(() => r() * 2 - 1);
  raw.fill(0, ZERO * D, (ZERO + 1) * D);
  await ingestDecoders(t.app, { modelId: "nd", saeId: "nd/sae", d: D, raw, n: N });
});
afterAll(async () => t?.close());

const page = (k: number, exact = "") => `{ features(saeId: "nd/sae", first: 10) { edges { node { index neighbors(k: ${k}${exact}) { feature { index } cosine } } } } }`;

describe("a feature without a decoder direction", () => {
  it.each([
    ["stored lists", 5],
    ["a scan (k above the stored lists)", 35],
  ])("has no neighbours and does not fail its page (%s)", async (_how, k) => {
    const r = await executeQuery(t.app, page(k));
    expect(r.errors).toBeUndefined();
    const nodes = (r.data as any).features.edges.map((e: any) => e.node);
    expect(nodes).toHaveLength(10);
    for (const n of nodes) {
      if (n.index === ZERO) expect(n.neighbors).toEqual([]);
      else {
        expect(n.neighbors).toHaveLength(k);
        expect(n.neighbors.map((x: any) => x.feature.index)).not.toContain(ZERO);
      }
    }
  });

  it("answers nearestFeatures with an empty list, and still NOT_FOUND for a feature that does not exist", async () => {
    const r = await executeQuery(t.app, `{ nearestFeatures(saeId: "nd/sae", index: ${ZERO}, k: 5) { cosine } }`);
    expect(r.errors).toBeUndefined();
    expect((r.data as any).nearestFeatures).toEqual([]);
    const exact = await executeQuery(t.app, `{ nearestFeatures(saeId: "nd/sae", index: ${ZERO}, k: 50, exact: true) { cosine } }`);
    expect((exact.data as any).nearestFeatures).toEqual([]);
    const missing = await executeQuery(t.app, `{ nearestFeatures(saeId: "nd/sae", index: ${N + 5}) { cosine } }`);
    expect((missing.errors?.[0] as any)?.extensions?.code).toBe("NOT_FOUND");
  });
});
