// The demo as a user meets it: the shipped data/demo family set up on a fresh database
// through the ordinary importers (only the 512 SAE, to keep the test short), queryable
// over GraphQL, and a second run that re-ingests nothing; then `monoscope demo` serving it.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_DEMO_DATA_DIR, demoSaeId } from "../../src/demo/demo.types.ts";
import { runDemoSetup } from "../../src/demo/run-demo.ts";
import { showcaseFeature } from "../../src/demo/example-queries.ts";
import { executeQuery } from "../../src/graphql/execute.ts";
import { createTestDatabase, openTestApp, type TestApp, type TestDatabase } from "../helpers/backend.ts";

const root = join(import.meta.dirname, "..", "..");
const SAE = demoSaeId(512);
const saeDir = join(DEFAULT_DEMO_DATA_DIR, "saes", "512");
// Setting up runs the post-ingest steps too (neighbours, lineage, map, labels, search): minutes on a busy machine.
const SLOW = 600_000;

interface JsonlActivation {
  type: "activation";
  index: number;
  tokens: string[];
  values: number[];
  kind: string;
}

/** The shipped activation examples of one feature, in file order. */
function fileExamples(index: number): JsonlActivation[] {
  const lines = gunzipSync(readFileSync(join(saeDir, "activations.jsonl.gz"))).toString("utf8").split("\n");
  return lines
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as JsonlActivation)
    .filter((r) => r.type === "activation" && r.index === index);
}

describe("demo set-up (512 SAE)", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await openTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  it("ingests through the importers and the features are queryable", async () => {
    const setup = await runDemoSetup(t.app, { sizes: [512] });
    expect(setup.saes.map((s) => s.id)).toEqual([SAE]);
    expect(setup.steps[0]).toMatchObject({ name: "ingest" });
    expect(setup.steps[0].summary).toMatch(/created \(512 features\), \d+ activation examples/);
    // The nearest step checks the candidate scan against the stored exact neighbour lists.
    const probe = /match the stored exact lists for (\d+)\/(\d+) neighbours/.exec(setup.steps.find((s) => s.name === "nearest")?.summary ?? "");
    expect(probe, setup.steps.map((s) => s.summary).join("\n")).not.toBeNull();
    expect(Number(probe![2])).toBeGreaterThan(0);
    expect(probe![1]).toBe(probe![2]);

    const feature = showcaseFeature(DEFAULT_DEMO_DATA_DIR, setup.saes[0]);
    const expected = fileExamples(feature);
    expect(expected.length).toBeGreaterThanOrEqual(20);
    const r = await executeQuery(
      t.app,
      `query($sae: ID!, $i: Int!) {
        sae(id: $sae) { dIn dSae architecture featureCount model { id } family { id } }
        features(saeId: $sae, first: 1) { totalCount }
        feature(saeId: $sae, index: $i) { density maxActivation topActivations(first: 50, kinds: [TOP]) { tokens values maxValue } }
        nearestFeatures(saeId: $sae, index: $i, k: 3) { cosine feature { index } }
      }`,
      { sae: SAE, i: feature },
    );
    expect(r.errors).toBeUndefined();
    const data = r.data as {
      sae: { dIn: number; dSae: number; architecture: string; featureCount: number; model: { id: string }; family: { id: string } };
      features: { totalCount: number };
      feature: { density: number; maxActivation: number; topActivations: { tokens: string[]; values: number[]; maxValue: number }[] };
      nearestFeatures: { cosine: number; feature: { index: number } }[];
    };
    expect(data.sae).toEqual({ dIn: 100, dSae: 512, architecture: "topk", featureCount: 512, model: { id: "glove-6b-100d" }, family: { id: "glove-wordnet" } });
    expect(data.features.totalCount).toBe(512);
    expect(data.feature.density).toBeGreaterThan(0);
    // the API returns the shipped top examples, strongest first, token for token
    const top = expected.filter((e) => e.kind === "top");
    expect(data.feature.topActivations.map((a) => a.tokens)).toEqual(top.map((e) => e.tokens));
    expect(data.feature.topActivations[0].maxValue).toBeCloseTo(Math.max(...top[0].values), 3);
    expect(data.feature.maxActivation).toBeGreaterThanOrEqual(data.feature.topActivations[0].maxValue - 1e-3);
    expect(data.nearestFeatures).toHaveLength(3);
    expect(data.nearestFeatures.every((n) => n.feature.index !== feature && n.cosine < 1)).toBe(true);
  }, SLOW);

  it("re-running re-ingests nothing", async () => {
    const count = async () =>
      ((await executeQuery(t.app, `{ feature(saeId: "${SAE}", index: 0) { topActivations(first: 100) { maxValue } } }`)).data as {
        feature: { topActivations: unknown[] };
      }).feature.topActivations.length;
    const before = await count();
    const again = await runDemoSetup(t.app, { sizes: [512] });
    expect(again.steps[0].summary).toBe(`${SAE} up to date`);
    expect(await count()).toBe(before);
  }, SLOW);
});

describe("monoscope demo", () => {
  let dir: string;
  let db: TestDatabase;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "monoscope-demo-"));
    db = await createTestDatabase();
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await db?.drop();
  });

  it("sets up the demo, serves it and prints the URL and example queries", async () => {
    const child = spawn(process.execPath, [join(root, "bin/monoscope.js"), "--data-dir", dir, "demo", "--sizes", "512", "--port", "0"], {
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...db.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on("data", (d: Buffer) => {
          stdout += d.toString();
          const m = /GraphQL API at (\S+\/graphql)/.exec(stdout);
          if (m && stdout.includes("Try:") && stdout.endsWith("\n")) resolve(m[1]);
        });
        void exited.then((code) => reject(new Error(`demo exited (${code}) before serving:\n${stderr}`)));
      });
      expect(stdout.match(/^ {2}\{ /gm)?.length).toBe(3);
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ query: `{ families { id saes { id dSae } } }` }),
      });
      expect(await res.json()).toEqual({ data: { families: [{ id: "glove-wordnet", saes: [{ id: SAE, dSae: 512 }] }] } });
      // every printed example query runs without errors
      for (const q of stdout.split("\n").filter((l) => l.startsWith("  { "))) {
        const r = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query: q.trim() }) });
        const body = (await r.json()) as { errors?: unknown };
        expect(body.errors, q).toBeUndefined();
      }
    } finally {
      child.kill("SIGTERM");
      await exited;
    }
  }, SLOW);
});
