// The neuron statistics on the real GPT-2 sample (SAEDashboard batch of gpt2-small res-jb,
// layer 0: no decoder vectors), imported with `monoscope ingest neuronpedia` and read with
// `monoscope query`, on both backends. Expected values are computed here from the JSON:
// neuronCorrelatedFraction comes from correlated_neurons_pearson (activation correlation),
// neuronAlignedFraction from neuron_alignment_values (decoder weights), deadFraction and
// medianDensity from frac_nonzero.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../helpers/backend.ts";
import { ROOT, runCli } from "../helpers/cli.ts";
import { median } from "../helpers/random-sae.ts";

const SAMPLE = join(ROOT, "tests", "fixtures", "saedashboard", "gpt2-small-0-res-jb-batch-0.json");
let dir: string;
let db: TestDatabase;

const cli = (args: string[]) => runCli(dir, db.env, args);

interface SampleFeature {
  frac_nonzero: number;
  correlated_neurons_pearson: number[];
  neuron_alignment_values: number[];
}
const features = (JSON.parse(readFileSync(SAMPLE, "utf8")) as { features: SampleFeature[] }).features;
const fraction = (pass: (f: SampleFeature) => boolean) => features.filter(pass).length / features.length;
/** The most positively correlated neuron's Pearson r, per feature. */
const bestCorr = (f: SampleFeature) => Math.max(...f.correlated_neurons_pearson);
const bestAlign = (f: SampleFeature) => Math.max(...f.neuron_alignment_values.map(Math.abs));

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "monoscope-gpt2-"));
  db = await createTestDatabase();
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await db.drop();
});

describe("neuron statistics on the real GPT-2 sample", () => {
  it("come from the imported correlations and alignments, not from decoders (there are none)", () => {
    const ing = cli(["ingest", "neuronpedia", SAMPLE, "--d-in", "768", "--d-sae", "24576"]);
    expect(ing.code, ing.stderr).toBe(0);
    const r = cli([
      "query",
      `{ sae(id: "gpt2-small/0-res-jb") { featureCount stats {
          deadFraction medianDensity
          neuronCorrelatedFraction c005: neuronCorrelatedFraction(threshold: 0.005) c0: neuronCorrelatedFraction(threshold: 0)
          neuronAlignedFraction a01: neuronAlignedFraction(threshold: 0.1) } } }`,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const sae = JSON.parse(r.stdout).data.sae;
    expect(sae.featureCount).toBe(features.length);
    const s = sae.stats;
    expect(s.neuronCorrelatedFraction).toBe(fraction((f) => bestCorr(f) >= 0.3)); // 0: neither feature is neuron-like
    expect(s.c005).toBe(fraction((f) => bestCorr(f) >= 0.005));
    expect(s.c0).toBe(fraction((f) => bestCorr(f) >= 0));
    expect(s.c005).toBe(0.5); // the thresholds separate the two features: the data is really read
    expect(s.neuronAlignedFraction).toBe(fraction((f) => bestAlign(f) >= 0.3));
    expect(s.a01).toBe(fraction((f) => bestAlign(f) >= 0.1));
    expect(s.deadFraction).toBe(fraction((f) => f.frac_nonzero === 0));
    expect(s.medianDensity).toBeCloseTo(median(features.map((f) => f.frac_nonzero))!, 7);
  });
});
