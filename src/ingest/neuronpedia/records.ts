// Neuronpedia / SAEDashboard records -> ingest rows. One SAEDashboard batch feature
// carries its activations inline (snake_case bin fields); a Neuronpedia export splits
// features, activations and explanations into separate JSONL files (camelCase). Both
// share the feature fields (neuron_alignment_*, correlated_*, pos_str, frac_nonzero, ...).
// Monoscope's own exports add a "monoscope" object with the columns Neuronpedia has no
// field for, so an export re-imports to the same rows.
import { fileError } from "../../errors.ts";
import type { ActivationRow, ExplanationRow, FeatureDashboard, FeatureRow } from "../ingest.types.ts";
import { decodeByteLevelToken, decodeByteLevelTokens } from "./bpe.ts";

type Obj = Record<string, unknown>;

export class RecordReader {
  constructor(
    readonly where: string,
    private readonly o: Obj,
  ) {}

  has(k: string): boolean {
    return this.o[k] !== undefined && this.o[k] !== null;
  }
  raw(k: string): unknown {
    return this.o[k];
  }
  num(k: string): number | null {
    const v = this.o[k];
    if (v === undefined || v === null) return null;
    const n = typeof v === "string" && v.trim() !== "" ? Number(v) : v;
    if (typeof n !== "number" || !Number.isFinite(n)) throw fileError(this.where, k, `${JSON.stringify(v)} is not a finite number`);
    return n;
  }
  int(k: string): number | null {
    const n = this.num(k);
    if (n !== null && !Number.isInteger(n)) throw fileError(this.where, k, `${n} is not an integer`);
    return n;
  }
  str(k: string): string | null {
    const v = this.o[k];
    if (v === undefined || v === null) return null;
    if (typeof v !== "string") throw fileError(this.where, k, `${JSON.stringify(v)} is not a string`);
    return v;
  }
  nums(k: string): number[] {
    const v = this.o[k];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) throw fileError(this.where, k, "is not an array");
    for (let i = 0; i < v.length; i++) {
      if (typeof v[i] !== "number" || !Number.isFinite(v[i])) throw fileError(this.where, `${k}[${i}]`, `${JSON.stringify(v[i])} is not a finite number`);
    }
    return v as number[];
  }
  strs(k: string): string[] {
    const v = this.o[k];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) throw fileError(this.where, k, "is not an array");
    for (let i = 0; i < v.length; i++) if (typeof v[i] !== "string") throw fileError(this.where, `${k}[${i}]`, "is not a string");
    return v as string[];
  }
  fields(): Readonly<Obj> {
    return this.o;
  }
  obj(k: string): Obj | null {
    const v = this.o[k];
    return v && typeof v === "object" && !Array.isArray(v) ? (v as Obj) : null;
  }
}

export function reader(value: unknown, where: string): RecordReader {
  if (!value || typeof value !== "object" || Array.isArray(value)) throw fileError(where, "record", "is not a JSON object");
  return new RecordReader(where, value as Obj);
}

export function featureIndex(r: RecordReader, key: string): number {
  const i = r.int(key);
  if (i === null || i < 0) throw fileError(r.where, key, `${JSON.stringify(r.raw(key))} is not a feature index`);
  return i;
}

function sameLength(r: RecordReader, a: string, b: string, x: unknown[], y: unknown[]): void {
  if (x.length !== y.length) throw fileError(r.where, b, `has ${y.length} entries for ${x.length} in ${a}`);
}

function tokenValues(r: RecordReader, strKey: string, valKey: string, extra: Record<string, unknown>) {
  const s = r.strs(strKey);
  const v = r.nums(valKey);
  sameLength(r, strKey, valKey, s, v);
  const out = s.map((t, i) => ({ token: decodeByteLevelToken(t), value: v[i]! }));
  // The byte-level strings as written, for exports, when decoding changed any of them.
  if (out.some((t, i) => t.token !== s[i])) extra[strKey] = s;
  return s.length ? out : null;
}

function bars(r: RecordReader, values: string, heights: string) {
  const v = r.nums(values);
  const h = r.nums(heights);
  sameLength(r, values, heights, v, h);
  return v.length ? { values: v, heights: h } : null;
}

function triple(r: RecordReader, prefix: string, second: "pearson" | "values") {
  const indices = r.nums(`${prefix}_indices`);
  const vals = r.nums(`${prefix}_${second}`);
  const l1 = r.nums(`${prefix}_l1`);
  sameLength(r, `${prefix}_indices`, `${prefix}_${second}`, indices, vals);
  return { indices, vals, l1 };
}

/** Feature fields shared by SAEDashboard batches and Neuronpedia feature lines. */
export function parseFeature(r: RecordReader, index: number, dIn: number | null): FeatureRow {
  const align = triple(r, "neuron_alignment", "values");
  const corrN = triple(r, "correlated_neurons", "pearson");
  const corrF = triple(r, "correlated_features", "pearson");
  const vector = r.nums("vector");
  if (vector.length && dIn !== null && vector.length !== dIn) throw fileError(r.where, "vector", `has ${vector.length} values, expected d_in = ${dIn}`);
  let neuronIndex: number | null = null;
  let neuronCosine: number | null = null;
  if (!vector.length && align.indices.length) {
    // Decoder-weight alignment: the neuron whose weight in this feature's decoder row is largest in magnitude.
    let best = 0;
    for (let i = 1; i < align.vals.length; i++) if (Math.abs(align.vals[i]!) > Math.abs(align.vals[best]!)) best = i;
    neuronIndex = align.indices[best]!;
    neuronCosine = align.vals[best]!;
  }
  let neuronCorrIndex: number | null = null;
  let neuronCorrPearson: number | null = null;
  if (corrN.indices.length) {
    let best = 0;
    for (let i = 1; i < corrN.vals.length; i++) if (corrN.vals[i]! > corrN.vals[best]!) best = i;
    neuronCorrIndex = corrN.indices[best]!;
    neuronCorrPearson = corrN.vals[best]!;
  }
  const extra: Record<string, unknown> = {};
  const posLogits = tokenValues(r, "pos_str", "pos_values", extra);
  const negLogits = tokenValues(r, "neg_str", "neg_values", extra);
  for (const k of ["decoder_weights_dist", "topkCosSimIndices", "topkCosSimValues"]) {
    const v = r.raw(k);
    if (Array.isArray(v) && v.length) extra[k] = v;
  }
  for (const k of ["n_prompts_total", "n_tokens_in_prompt", "dataset", "vectorLabel", "hookName"]) if (r.has(k)) extra[k] = r.raw(k);
  const dashboard: FeatureDashboard = {
    posLogits,
    negLogits,
    freqHistogram: bars(r, "freq_hist_data_bar_values", "freq_hist_data_bar_heights"),
    logitsHistogram: bars(r, "logits_hist_data_bar_values", "logits_hist_data_bar_heights"),
    correlatedNeurons: corrN.indices.length ? { indices: corrN.indices, pearson: corrN.vals, l1: corrN.l1 } : null,
    correlatedFeatures: corrF.indices.length ? { indices: corrF.indices, pearson: corrF.vals, l1: corrF.l1 } : null,
    neuronAlignment: align.indices.length ? { indices: align.indices, values: align.vals, l1: align.l1 } : null,
    extra: Object.keys(extra).length ? extra : null,
  };
  const hasDashboard = Object.values(dashboard).some((v) => v !== null);
  const density = r.num("frac_nonzero");
  if (density !== null && (density < 0 || density > 1)) throw fileError(r.where, "frac_nonzero", `${density} is not a fraction in [0, 1]`);
  const row: FeatureRow = {
    index,
    decoder: vector.length ? vector : null,
    density,
    maxActivation: r.num("maxActApprox"),
    neuronIndex,
    neuronCosine,
    neuronCorrIndex,
    neuronCorrPearson,
    dashboard: hasDashboard ? dashboard : null,
    file: r.where,
  };
  const m = r.obj("monoscope");
  if (m) applyMonoscopeFields(reader(m, `${r.where} monoscope`), row);
  return row;
}

function applyMonoscopeFields(m: RecordReader, row: FeatureRow): void {
  const set = <K extends keyof FeatureRow>(key: K, v: FeatureRow[K]) => {
    row[key] = v;
  };
  if (m.raw("decoderNorm") !== undefined) set("decoderNorm", m.num("decoderNorm"));
  if (m.raw("encoder") !== undefined) set("encoder", m.raw("encoder") === null ? null : m.nums("encoder"));
  for (const k of ["bEnc", "threshold", "density", "maxActivation", "neuronCosine", "neuronCorrPearson"] as const) {
    if (m.raw(k) !== undefined) set(k, m.num(k));
  }
  for (const k of ["neuronIndex", "neuronCorrIndex"] as const) if (m.raw(k) !== undefined) set(k, m.int(k));
  if (m.raw("dashboard") !== undefined) {
    const d = m.raw("dashboard");
    set("dashboard", d && typeof d === "object" ? (d as FeatureDashboard) : null);
  }
}

/**
 * One activation record. SAEDashboard marks top examples with bin_min = -1; other bins
 * are quantile samples. decoded: tokens are readable already (Monoscope exports).
 */
export function parseActivation(r: RecordReader, index: number, snake: boolean): ActivationRow {
  const tokens = r.strs("tokens");
  const values = r.nums("values");
  if (!r.has("tokens")) throw fileError(r.where, "tokens", "is missing");
  if (tokens.length !== values.length) throw fileError(r.where, "values", `has ${values.length} values for ${tokens.length} tokens`);
  if (tokens.length === 0) throw fileError(r.where, "tokens", "is empty");
  const binMin = r.num(snake ? "bin_min" : "binMin");
  const binMax = r.num(snake ? "bin_max" : "binMax");
  const m = r.obj("monoscope");
  const top = binMin === null || binMin === -1;
  const decoded = m?.decoded === true ? { tokens, text: typeof m.text === "string" ? m.text : tokens.join("") } : decodeByteLevelTokens(tokens);
  const kind = m && (m.kind === "top" || m.kind === "quantile") ? m.kind : top ? "top" : "quantile";
  const rawTokens = decoded.tokens.some((t, i) => t !== tokens[i]) ? tokens : null;
  const sourceFields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r.fields())) {
    if (v === undefined || (snake ? SNAKE_COLUMNS : EXPORT_COLUMNS).has(k)) continue;
    sourceFields[SNAKE_NAMES[k] ?? k] = v;
  }
  // A top example's bins are markers (-1, the feature's maximum), not a sample's bounds.
  if (kind === "top") {
    if (r.raw(snake ? "bin_min" : "binMin") !== undefined) sourceFields.binMin = binMin;
    if (r.raw(snake ? "bin_max" : "binMax") !== undefined) sourceFields.binMax = binMax;
  }
  return {
    index,
    tokens: decoded.tokens,
    values,
    kind,
    binMin: kind === "top" ? null : binMin,
    binMax: kind === "top" ? null : binMax,
    source: r.str(snake ? "source" : "dataSource"),
    text: decoded.text,
    rawTokens,
    sourceFields: Object.keys(sourceFields).length ? sourceFields : null,
    file: r.where,
  };
}

// Record keys that are columns (or derived from them) and so are not kept as source fields.
const SNAKE_COLUMNS = new Set(["tokens", "values", "bin_min", "bin_max", "source", "monoscope"]);
const EXPORT_COLUMNS = new Set(["modelId", "layer", "index", "tokens", "values", "maxValue", "maxValueTokenIndex", "minValue", "binMin", "binMax", "dataSource", "monoscope"]);
/** SAEDashboard's per-example keys under the names Neuronpedia's activation records use. */
const SNAKE_NAMES: Record<string, string> = {
  bin_contains: "binContains",
  qualifying_token_index: "qualifyingTokenIndex",
  dfa_values: "dfaValues",
  dfa_maxValue: "dfaMaxValue",
  dfa_targetIndex: "dfaTargetIndex",
};

export function parseExplanation(r: RecordReader, index: number): ExplanationRow | null {
  const text = r.str("description") ?? r.str("text");
  if (text === null || text.trim() === "") return null; // Neuronpedia keeps empty placeholders
  const m = r.obj("monoscope");
  return {
    index,
    text,
    method: typeof m?.method === "string" ? m.method : "imported",
    explainerModel: r.str("explanationModelName"),
    promptVersion: r.str("typeName"),
    file: r.where,
  };
}
