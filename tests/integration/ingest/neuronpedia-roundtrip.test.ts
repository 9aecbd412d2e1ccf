// export(import(x)) == x for SAEDashboard batches, field by field and exactly: the real
// gpt2-small res-jb batch (same bytes as shared/realdata/saedashboard_gpt2-small_0-res-jb_batch-0.json)
// and a generated batch that uses every field the format defines. The export is Neuronpedia's
// layout, so its records are mapped back to SAEDashboard's names (binMin -> bin_min, ...) and
// the fields only Neuronpedia has (maxValue, vector, monoscope, ...) are set aside.
//
// Lossy by design, and so not in the generated batch: activation values are stored as float32
// (SAEDashboard computes them in float32 and writes them rounded to 3 decimals, which float32
// gives back exactly); decoder vectors are stored as float16 directions times a norm.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { executeQuery } from "../../../src/graphql/execute.ts";
import { ExportRepository } from "../../../src/ingest/export/export.repository.ts";
import { exportNeuronpedia } from "../../../src/ingest/export/export-neuronpedia.ts";
import { importNeuronpedia } from "../../../src/ingest/neuronpedia/import-neuronpedia.ts";
import { openTestApp, type TestApp } from "../../helpers/backend.ts";

type Obj = Record<string, unknown>;
const REAL = join(import.meta.dirname, "..", "..", "fixtures", "saedashboard", "gpt2-small-0-res-jb-batch-0.json");
let t: TestApp;
const dir = mkdtempSync(join(tmpdir(), "monoscope-np-rt-"));
beforeAll(async () => {
  t = await openTestApp();
});
afterAll(async () => {
  await t.close();
  rmSync(dir, { recursive: true, force: true });
});

const readJsonl = (path: string): Obj[] =>
  gunzipSync(readFileSync(path)).toString("utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as Obj);
const readAll = (d: string): Obj[] => readdirSync(d).sort((a, b) => a.localeCompare(b, "en", { numeric: true })).flatMap((f) => readJsonl(join(d, f)));

// Neuronpedia-only keys of an exported record, derived from the stored rows.
const FEATURE_ONLY = new Set(["modelId", "layer", "index", "maxActApprox", "hasVector", "vector", "topkCosSimIndices", "topkCosSimValues", "monoscope"]);
const ACTIVATION_ONLY = new Set(["modelId", "layer", "index", "maxValue", "maxValueTokenIndex", "minValue", "monoscope"]);
const SNAKE: Obj = {
  binMin: "bin_min",
  binMax: "bin_max",
  binContains: "bin_contains",
  qualifyingTokenIndex: "qualifying_token_index",
  dfaValues: "dfa_values",
  dfaMaxValue: "dfa_maxValue",
  dfaTargetIndex: "dfa_targetIndex",
};

/** An export directory read back as the SAEDashboard batch it claims to reproduce. */
function asBatch(out: string): Obj {
  const mono = JSON.parse(readFileSync(join(out, "monoscope.json"), "utf8")) as Obj;
  const source = JSON.parse(readFileSync(join(out, "source.jsonl"), "utf8").trim()) as Obj;
  const acts = new Map<number, Obj[]>();
  for (const a of readAll(join(out, "activations"))) {
    const rec: Obj = {};
    for (const [k, v] of Object.entries(a)) {
      if (ACTIVATION_ONLY.has(k)) continue;
      if (k === "dataSource") {
        if (v !== null) rec.source = v;
      } else rec[(SNAKE[k] as string | undefined) ?? k] = v;
    }
    const i = Number(a.index);
    acts.set(i, [...(acts.get(i) ?? []), rec]);
  }
  const features = readAll(join(out, "features")).map((f) => {
    const rec: Obj = { feature_index: Number(f.index) };
    for (const [k, v] of Object.entries(f)) if (!FEATURE_ONLY.has(k)) rec[k] = v;
    rec.activations = acts.get(Number(f.index)) ?? [];
    return rec;
  });
  return { model_id: mono.modelId, layer: mono.layer, sae_set: source.setName, features };
}

/** Deep equality with a path for the first difference (numbers compared with Object.is). */
function firstDifference(a: unknown, b: unknown, path = "$"): string | null {
  if (typeof a === "number" && typeof b === "number") return Object.is(a, b) ? null : `${path}: ${a} != ${b}`;
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return `${path}: length ${a.length} != ${b.length}`;
    for (let i = 0; i < a.length; i++) {
      const d = firstDifference(a[i], b[i], `${path}[${i}]`);
      if (d) return d;
    }
    return null;
  }
  if (a && b && typeof a === "object" && typeof b === "object" && !Array.isArray(a) && !Array.isArray(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of [...keys].sort()) {
      if (!(k in a)) return `${path}.${k}: missing from the export`;
      if (!(k in b)) return `${path}.${k}: not in the source`;
      const d = firstDifference((a as Obj)[k], (b as Obj)[k], `${path}.${k}`);
      if (d) return d;
    }
    return null;
  }
  return a === b ? null : `${path}: ${JSON.stringify(a)} != ${JSON.stringify(b)}`;
}

async function roundTrip(file: string, saeId: string, dSae: number): Promise<{ out: string; batch: Obj }> {
  await importNeuronpedia(t.app.services.ingest, { path: file, saeId, dIn: 768, dSae });
  const out = join(dir, saeId);
  await exportNeuronpedia(new ExportRepository(t.app.db), saeId, out);
  return { out, batch: asBatch(out) };
}

describe("export neuronpedia of an imported SAEDashboard batch gives the batch back", () => {
  it("the real gpt2-small res-jb batch: every field, exactly", async () => {
    const source = JSON.parse(readFileSync(REAL, "utf8")) as Obj;
    const { out, batch } = await roundTrip(REAL, "rt-real", 24576);
    expect(firstDifference(batch, source)).toBeNull();
    expect(batch).toStrictEqual(source);
    // What the batch never stated is not invented: stored as null, left out of the export.
    const sae = await t.app.db.prisma.sae.findUniqueOrThrow({ where: { id: "rt-real" } });
    expect(sae).toMatchObject({ architecture: null, applyBDecToInput: null });
    const api = await executeQuery(t.app, `{ sae(id: "rt-real") { architecture } }`);
    expect(api).toMatchObject({ data: { sae: { architecture: "unknown" } } });
    expect(api.errors).toBeUndefined();
    const mono = JSON.parse(readFileSync(join(out, "monoscope.json"), "utf8")) as Obj;
    expect(mono).not.toHaveProperty("architecture");
    expect(mono).not.toHaveProperty("applyBDecToInput");
    expect(JSON.parse(JSON.parse(readFileSync(join(out, "source.jsonl"), "utf8")).saelensConfig)).not.toHaveProperty("architecture");
  });

  it("a generated batch that uses every field the format defines", async () => {
    const source = generatedBatch();
    const file = join(dir, "generated.json");
    writeFileSync(file, JSON.stringify(source));
    const { batch } = await roundTrip(file, "rt-generated", 64);
    expect(firstDifference(batch, source)).toBeNull();
    expect(batch).toStrictEqual(source);
  });

  it("re-importing the export reproduces the export (a second round trip changes nothing)", async () => {
    const first = join(dir, "rt-real");
    await importNeuronpedia(t.app.services.ingest, { path: first, saeId: "rt-real-again" });
    const again = join(dir, "rt-real-again");
    await exportNeuronpedia(new ExportRepository(t.app.db), "rt-real-again", again);
    expect(firstDifference(asBatch(again), asBatch(first))).toBeNull();
  });
});

// Byte-level BPE strings (GPT-2): Ġ = space, Ċ = newline, âĢĻ = right single quote.
const TOKENS = ["Ġthe", "Ġbrigade", "âĢĻs", "Ċ", "Ġregiment", ",", "Ġbattalion", "Ġof", "ĠâĢľ", "Ġ1914"];

function generatedBatch(): Obj {
  // Deterministic pseudo-random float64s with full precision (not representable in float32).
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const f64 = () => rand() * 3 - 1 + rand() * 1e-9;
  const dec3 = () => Math.round(rand() * 5000) / 1000; // activation values as SAEDashboard writes them
  const ints = (n: number, max: number) => Array.from({ length: n }, () => Math.floor(rand() * max));
  const floats = (n: number) => Array.from({ length: n }, f64);
  const features = [3, 17].map((feature_index, fi) => {
    const activation = (top: boolean, k: number) => {
      const n = 8 + k;
      const values = Array.from({ length: n }, dec3);
      return {
        bin_min: top ? -1 : 0.123456789012345 * (k + 1),
        bin_max: top ? 4.987654321098765 : 0.123456789012345 * (k + 2),
        bin_contains: top ? -1 : 0.000123456789012345 * (k + 1),
        tokens: Array.from({ length: n }, (_, i) => TOKENS[(i + k) % TOKENS.length]!),
        values,
        qualifying_token_index: (k * 3 + 1) % n, // the bin's token, not necessarily the argmax
        dfa_values: floats(n),
        dfa_maxValue: f64(),
        dfa_targetIndex: k % n,
      };
    };
    return {
      feature_index,
      neuron_alignment_indices: ints(3, 768),
      neuron_alignment_values: floats(3),
      neuron_alignment_l1: floats(3),
      correlated_neurons_indices: ints(3, 768),
      correlated_neurons_l1: floats(3),
      correlated_neurons_pearson: floats(3),
      correlated_features_indices: ints(2, 64),
      correlated_features_l1: floats(2),
      correlated_features_pearson: floats(2),
      neg_str: TOKENS.slice(0, 5),
      neg_values: floats(5),
      pos_str: TOKENS.slice(5),
      pos_values: floats(5),
      frac_nonzero: 0.000123456789012345 * (fi + 1),
      freq_hist_data_bar_values: floats(4),
      freq_hist_data_bar_heights: ints(4, 1000),
      logits_hist_data_bar_heights: ints(4, 1000),
      logits_hist_data_bar_values: floats(4),
      n_prompts_total: 24576 + fi,
      n_tokens_in_prompt: 128,
      dataset: "Skylion007/openwebtext",
      decoder_weights_dist: floats(6),
      activations: [activation(true, 0), activation(true, 1), activation(false, 2), activation(false, 3)],
    };
  });
  return { model_id: "gpt2-small", layer: 4, sae_set: "gen-rt", features };
}
