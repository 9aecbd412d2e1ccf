// Text through the demo's model on both backends: activateText, Feature.activationsOnText and
// searchByText on the shipped 512 and 2048 SAEs (ingested as SAELens checkpoints) against the
// independent float64 reference (tests/helpers/glove-reference.ts), Feature.sources from imported
// examples, and the errors: unknown SAE, no source for the SAE's model, text over the limits.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { executeQuery } from "../../../src/graphql/execute.ts";
import { importNativeActivations } from "../../../src/ingest/native/import-activations.ts";
import { importSaelens } from "../../../src/ingest/saelens/import-saelens.ts";
import { EncodeRepository } from "../../../src/modules/encode/encode.repository.ts";
import { EncodeService } from "../../../src/modules/encode/encode.service.ts";
import { silentLogger } from "../../../src/logger.ts";
import { openTestApp, type TestApp } from "../../helpers/backend.ts";
import { DEMO_DIR, referenceActivateText, referenceSae, referenceWords, type ReferenceSae, type ReferenceWords } from "../../helpers/glove-reference.ts";

const S512 = "glove-demo/512";
const S2048 = "glove-demo/2048";
const OTHER = "other-model/512"; // the same weights under a model nothing runs
const TEXTS = ["The cat sat on the mat.", "Roosevelt met Truman; the brigade marched at dawn, 1945.", "cat"];

let t: TestApp;
let tmp: string;
let words: ReferenceWords;
const ref = new Map<string, ReferenceSae>();

beforeAll(async () => {
  t = await openTestApp({ MONOSCOPE_TEXT_MAX_CHARS: "300", MONOSCOPE_TEXT_MAX_TOKENS: "40" });
  t.app.services.ingest.steps = null; // maps, neighbours and lineage are not what this tests
  const ingest = t.app.services.ingest;
  await importSaelens(ingest, { dir: join(DEMO_DIR, "saes", "512"), saeId: S512 });
  await importSaelens(ingest, { dir: join(DEMO_DIR, "saes", "2048"), saeId: S2048 });
  await importSaelens(ingest, { dir: join(DEMO_DIR, "saes", "512"), saeId: OTHER, modelId: "other-model" });
  tmp = mkdtempSync(join(tmpdir(), "text-graphql-"));
  const file = join(tmp, "examples.jsonl");
  const line = (o: object) => JSON.stringify(o);
  writeFileSync(
    file,
    [
      line({ type: "feature", index: 7, density: 0.01, maxActivation: 0.9 }),
      line({ type: "activation", index: 7, tokens: ["a", " b"], values: [0.2, 0.9], kind: "top", source: "code" }),
      line({ type: "activation", index: 7, tokens: ["c"], values: [0.5], kind: "top", source: "prose" }),
      line({ type: "activation", index: 7, tokens: ["d"], values: [0.4], kind: "top", source: "prose" }),
      line({ type: "activation", index: 7, tokens: ["e"], values: [0.3], kind: "top" }),
    ].join("\n") + "\n",
  );
  await importNativeActivations(ingest, { file, saeId: S512 });
  words = referenceWords();
  ref.set(S512, referenceSae(512));
  ref.set(S2048, referenceSae(2048));
}, 600_000);
afterAll(async () => {
  await t?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const q = (query: string, variables?: Record<string, unknown>) => executeQuery(t.app, query, variables);
const data = (r: { data?: unknown; errors?: readonly unknown[] }) => {
  expect(r.errors).toBeUndefined();
  return r.data as any;
};
const error = (r: { errors?: readonly unknown[] }) => {
  expect(r.errors?.length).toBe(1);
  const e = r.errors![0] as { message: string; extensions?: { code?: string } };
  return { code: e.extensions?.code, message: e.message };
};

const ACTIVATE = `query($s: ID!, $t: String!, $k: Int) { activateText(saeId: $s, text: $t, k: $k) { tokens { token features { activation feature { saeId: sae { id } index } } } } }`;

describe("activateText", () => {
  it("gives every token the reference's strongest features and values (first call from the database, then from memory)", async () => {
    for (const saeId of [S512, S2048]) {
      for (const k of [5, 8]) {
        for (const text of ["cat", ...TEXTS]) {
          const got = data(await q(ACTIVATE, { s: saeId, t: text, k })).activateText.tokens;
          const want = referenceActivateText(words, ref.get(saeId)!, text);
          expect(got.map((g: any) => g.token)).toEqual(want.map((w) => w.token));
          got.forEach((g: any, i: number) => {
            const w = want[i]!.features.slice(0, k);
            expect(g.features.map((f: any) => f.feature.index), `${saeId} "${g.token}"`).toEqual(w.map((f) => f.index));
            g.features.forEach((f: any, j: number) => {
              expect(f.feature.saeId.id).toBe(saeId);
              expect(Math.abs(f.activation - w[j]!.activation)).toBeLessThan(1e-4);
            });
          });
        }
      }
    }
  });

  it("defaults k to 5, and gives out-of-vocabulary tokens, numbers and punctuation no features", async () => {
    const got = data(await q(`{ activateText(saeId: "${S512}", text: "qwxzy cat 42!") { tokens { token features { activation } } } }`)).activateText.tokens;
    expect(got.map((g: any) => g.token)).toEqual(["qwxzy", " cat", " 42", "!"]);
    expect(got.map((g: any) => g.features.length)).toEqual([0, 5, 0, 0]);
  });
});

describe("Feature.activationsOnText", () => {
  it("is the feature's reference value on each token, 0 where it is not among the SAE's k", async () => {
    const text = TEXTS[1]!;
    const want = referenceActivateText(words, ref.get(S512)!, text);
    const feature = want.find((w) => w.features.length > 0)!.features[0]!.index;
    const got = data(await q(`query($t: String!) { feature(saeId: "${S512}", index: ${feature}) { activationsOnText(text: $t) } }`, { t: text })).feature.activationsOnText;
    expect(got).toHaveLength(want.length);
    let fired = 0;
    got.forEach((v: number, i: number) => {
      const w = want[i]!.features.find((f) => f.index === feature)?.activation ?? 0;
      if (w > 0) fired++;
      expect(Math.abs(v - w)).toBeLessThan(1e-4);
    });
    expect(fired).toBeGreaterThan(0);
    const single = data(await q(`{ feature(saeId: "${S512}", index: ${feature}) { activationsOnText(text: "qwxzy") } }`)).feature.activationsOnText;
    expect(single).toEqual([0]);
  });
});

describe("searchByText", () => {
  it("is the brute-force top k over both SAEs: each feature's max over the tokens and where it peaks", async () => {
    const text = TEXTS[1]!;
    const all: { saeId: string; index: number; max: number; at: number }[] = [];
    for (const saeId of [S512, S2048]) {
      const best = new Map<number, { max: number; at: number }>();
      referenceActivateText(words, ref.get(saeId)!, text).forEach((tok, at) => {
        for (const f of tok.features) if (!(best.get(f.index)?.max! >= f.activation)) best.set(f.index, { max: f.activation, at });
      });
      for (const [index, b] of best) all.push({ saeId, index, ...b });
    }
    all.sort((a, b) => b.max - a.max);
    const got = data(
      await q(`query($t: String!) { searchByText(text: $t, saeIds: ["${S512}", "${S2048}"], k: 12) { maxActivation tokenIndex feature { index sae { id } } } }`, { t: text }),
    ).searchByText;
    expect(got).toHaveLength(12);
    got.forEach((g: any, i: number) => {
      expect({ sae: g.feature.sae.id, index: g.feature.index, at: g.tokenIndex }).toEqual({ sae: all[i]!.saeId, index: all[i]!.index, at: all[i]!.at });
      expect(Math.abs(g.maxActivation - all[i]!.max)).toBeLessThan(1e-4);
    });
    const dflt = data(await q(`query($t: String!) { searchByText(text: $t, saeIds: ["${S512}"]) { maxActivation } }`, { t: text })).searchByText;
    expect(dflt).toHaveLength(20);
  });
});

describe("the encoder's batch paths", () => {
  it("give the same features and feature values from the database as from memory (native kernel and JavaScript)", async () => {
    const { acts } = await t.app.services.text.activations(S2048, TEXTS[1]!);
    const kept: number[] = [];
    for (let r = 0; r < acts.tokens.length; r++) if (acts.vectors.subarray(r * 100, (r + 1) * 100).some((v) => v !== 0)) kept.push(r);
    const rows = new Float32Array(kept.length * 100);
    kept.forEach((r, i) => rows.set(acts.vectors.subarray(r * 100, (r + 1) * 100), i * 100));
    // Without a kernel the in-memory product runs in JavaScript; the app's service has the native one.
    const make = (mode: "database" | "memory") => new EncodeService(new EncodeRepository(t.app.db), { maxK: 100, log: silentLogger, mode });
    const db = make("database");
    const mem = make("memory");
    const fromDb = await db.encodeMany(S2048, rows, 100, 8);
    const fromMem = await mem.encodeMany(S2048, rows, 100, 8);
    const fromApp = await t.app.services.encode.encodeMany(S2048, rows, 100, 8);
    expect(fromDb.length).toBeGreaterThan(5);
    for (const other of [fromMem, fromApp]) {
      other.forEach((hits, r) => {
        expect(hits.map((h) => h.index)).toEqual(fromDb[r]!.map((h) => h.index));
        hits.forEach((h, j) => expect(Math.abs(h.activation - fromDb[r]![j]!.activation)).toBeLessThan(1e-4));
      });
    }
    const feature = fromDb[0]![0]!.index;
    const vDb = await db.featureValues(S2048, feature, rows, 100);
    const vMem = await mem.featureValues(S2048, feature, rows, 100);
    expect(vDb[0]).toBeGreaterThan(0);
    vMem.forEach((v, i) => expect(Math.abs(v - vDb[i]!)).toBeLessThan(1e-4));
    await Promise.all([db.close(), mem.close()]);
  });
});

describe("Feature.sources", () => {
  it("summarises the feature's examples per source, strongest first, without the ones that have none", async () => {
    const got = data(await q(`{ feature(saeId: "${S512}", index: 7) { sources { source examples maxActivation } } }`)).feature.sources;
    expect(got).toEqual([
      { source: "code", examples: 1, maxActivation: expect.closeTo(0.9, 5) },
      { source: "prose", examples: 2, maxActivation: expect.closeTo(0.5, 5) },
    ]);
    expect(data(await q(`{ feature(saeId: "${S512}", index: 7) { sources(first: 1) { source } } }`)).feature.sources).toEqual([{ source: "code" }]);
    expect(data(await q(`{ feature(saeId: "${S512}", index: 8) { sources { source } } }`)).feature.sources).toEqual([]);
    expect(error(await q(`{ feature(saeId: "${S512}", index: 7) { sources(first: -1) { source } } }`)).code).toBe("BAD_USER_INPUT");
  });
});

describe("errors", () => {
  it("names an unknown SAE", async () => {
    expect(error(await q(ACTIVATE, { s: "nope/1", t: "cat" }))).toEqual({ code: "NOT_FOUND", message: 'SAE "nope/1" not found' });
    const e = error(await q(`{ searchByText(text: "cat", saeIds: ["${S512}", "nope/1"]) { tokenIndex } }`));
    expect(e.code).toBe("NOT_FOUND");
  });

  it("names the SAE and the env var when no source serves its model", async () => {
    for (const r of [
      await q(ACTIVATE, { s: OTHER, t: "cat" }),
      await q(`{ feature(saeId: "${OTHER}", index: 1) { activationsOnText(text: "cat") } }`),
      await q(`{ searchByText(text: "cat", saeIds: ["${OTHER}"]) { tokenIndex } }`),
    ]) {
      const e = error(r);
      expect(e.code).toBe("BAD_USER_INPUT");
      expect(e.message).toContain(`SAE "${OTHER}" has no activation source`);
      expect(e.message).toContain("MONOSCOPE_MODEL_DIR_OTHER_MODEL");
    }
  });

  it("refuses text over the character and token limits, and k or saeIds out of range", async () => {
    const long = "a".repeat(301);
    const many = Array.from({ length: 41 }, () => "cat").join(" ");
    for (const [query, vars, msg] of [
      [ACTIVATE, { s: S512, t: long }, /301 characters; at most 300/],
      [ACTIVATE, { s: S512, t: many }, /41 tokens; at most 40/],
      [ACTIVATE, { s: S512, t: "cat", k: 0 }, /k must be between 1 and/],
      [`query($t: String!) { feature(saeId: "${S512}", index: 1) { activationsOnText(text: $t) } }`, { t: long }, /301 characters/],
      [`query($t: String!) { feature(saeId: "${S512}", index: 1) { activationsOnText(text: $t) } }`, { t: many }, /41 tokens/],
      [`query($t: String!) { searchByText(text: $t, saeIds: ["${S512}"]) { tokenIndex } }`, { t: many }, /41 tokens/],
      [`{ searchByText(text: "cat", saeIds: []) { tokenIndex } }`, {}, /saeIds must name at least one SAE/],
    ] as const) {
      const e = error(await q(query, vars));
      expect(e.code).toBe("BAD_USER_INPUT");
      expect(e.message).toMatch(msg);
    }
    // 40 tokens is within the limit.
    const ok = Array.from({ length: 40 }, () => "cat").join(" ");
    expect(data(await q(ACTIVATE, { s: S512, t: ok })).activateText.tokens).toHaveLength(40);
  });
});
