// `monoscope export neuronpedia --sae <id> --out <dir>`: Neuronpedia's export layout
// (the contents of v1/<modelId>/<sourceId>/): features/, activations/ and
// explanations/ as gzipped JSONL batches, plus model.jsonl and source.jsonl.
// Monoscope adds monoscope.json (the SAE row) and a "monoscope" object per record
// with the columns Neuronpedia has no field for, so `ingest neuronpedia` of the
// export reproduces the same rows; Neuronpedia ignores the extra keys.
import { createWriteStream, mkdirSync, writeFileSync } from "node:fs";
import { once } from "node:events";
import { join } from "node:path";
import { createGzip, type Gzip } from "node:zlib";
import { parseVectorLiteral } from "../../db/vector.ts";
import { notFound } from "../../errors.ts";
import type { FeatureDashboard } from "../ingest.types.ts";
import type { ActivationExportRow, ExportRepository, FeatureExportRow } from "./export.repository.ts";

export interface ExportSummary {
  saeId: string;
  out: string;
  features: number;
  activations: number;
  explanations: number;
  seconds: number;
}

const FEATURES_PER_BATCH = 4096;
const PAGE = 1000;

class GzJsonl {
  private readonly gz: Gzip;
  private readonly done: Promise<unknown>;
  constructor(path: string) {
    this.gz = createGzip({ level: 6 });
    const out = createWriteStream(path);
    this.gz.pipe(out);
    this.done = once(out, "finish");
  }
  async write(o: unknown): Promise<void> {
    if (!this.gz.write(JSON.stringify(o) + "\n")) await once(this.gz, "drain");
  }
  async close(): Promise<void> {
    this.gz.end();
    await this.done;
  }
}

export async function exportNeuronpedia(repo: ExportRepository, saeId: string, out: string): Promise<ExportSummary> {
  const t0 = performance.now();
  const sae = await repo.sae(saeId);
  if (!sae || sae.status !== "ready") throw notFound(`SAE ${JSON.stringify(saeId)} not found`);
  const sourceId = sae.neuronpediaId?.includes("/") ? sae.neuronpediaId.slice(sae.neuronpediaId.indexOf("/") + 1) : saeId;
  for (const d of ["features", "activations", "explanations"]) mkdirSync(join(out, d), { recursive: true });
  const base = { modelId: sae.modelId, layer: sourceId };

  writeFileSync(
    join(out, "monoscope.json"),
    JSON.stringify(
      {
        format: "monoscope-neuronpedia-export/1",
        saeId: sae.id,
        name: sae.name,
        modelId: sae.modelId,
        modelDModel: sae.model.dModel,
        familyId: sae.familyId,
        hookName: sae.hookName,
        layer: sae.layer,
        // Left out when the import never learnt them (null), rather than written as a guess.
        architecture: sae.architecture ?? undefined,
        dIn: sae.dIn,
        dSae: sae.dSae,
        dtype: sae.dtype,
        k: sae.k,
        applyBDecToInput: sae.applyBDecToInput ?? undefined,
        bDec: sae.bDec,
        neuronpediaId: sae.neuronpediaId,
        config: sae.config,
      },
      null,
      2,
    ) + "\n",
  );
  writeFileSync(join(out, "model.jsonl"), JSON.stringify({ id: sae.modelId, displayName: sae.modelId, displayNameShort: sae.modelId }) + "\n");
  writeFileSync(
    join(out, "source.jsonl"),
    JSON.stringify({
      id: sourceId,
      modelId: sae.modelId,
      setName: sourceId.replace(/^\d+-/, ""),
      hasDashboards: true,
      visibility: "PUBLIC",
      saelensConfig: JSON.stringify({ d_in: sae.dIn, d_sae: sae.dSae, architecture: sae.architecture ?? undefined, hook_name: sae.hookName }),
    }) + "\n",
  );

  let features = 0;
  let file: GzJsonl | null = null;
  let batch = -1;
  for (let after = -1; ; ) {
    const rows = await repo.features(saeId, after, PAGE);
    if (!rows.length) break;
    for (const r of rows) {
      const b = Math.floor(r.idx / FEATURES_PER_BATCH);
      if (b !== batch) {
        await file?.close();
        file = new GzJsonl(join(out, "features", `batch-${b}.jsonl.gz`));
        batch = b;
      }
      await file!.write({ ...base, index: String(r.idx), ...featureRecord(r) });
      features++;
    }
    after = rows.at(-1)!.idx;
  }
  await file?.close();

  let activations = 0;
  file = null;
  batch = -1;
  for (let after: [number, number] = [-1, -1]; ; ) {
    const rows = await repo.activations(saeId, after, PAGE);
    if (!rows.length) break;
    for (const r of rows) {
      const b = Math.floor(r.feature_idx / FEATURES_PER_BATCH);
      if (b !== batch) {
        await file?.close();
        file = new GzJsonl(join(out, "activations", `batch-${b}.jsonl.gz`));
        batch = b;
      }
      await file!.write({ ...base, index: String(r.feature_idx), ...activationRecord(r) });
      activations++;
    }
    const last = rows.at(-1)!;
    after = [last.feature_idx, last.ordinal];
  }
  await file?.close();

  let explanations = 0;
  const ex = new GzJsonl(join(out, "explanations", "batch-0.jsonl.gz"));
  for (let after = 0; ; ) {
    const rows = await repo.explanations(saeId, after, PAGE);
    if (!rows.length) break;
    for (const r of rows) {
      await ex.write({
        ...base,
        index: String(r.feature_idx),
        description: r.text,
        typeName: r.prompt_version || null,
        explanationModelName: r.explainer_model || null,
        monoscope: { method: r.method },
      });
      explanations++;
    }
    after = rows.at(-1)!.id;
  }
  await ex.close();
  return { saeId, out, features, activations, explanations, seconds: Math.round(performance.now() - t0) / 1000 };
}

function featureRecord(r: FeatureExportRow) {
  const unit = r.decoder ? parseVectorLiteral(r.decoder) : null;
  const norm = r.decoder_norm;
  // The raw decoder row: unit direction times its norm (exactly invertible from the two fields).
  const vector = unit && norm ? Array.from(unit, (u) => u * norm) : [];
  const d = r.has_dashboard ? dashboardOf(r) : null;
  const extra = d?.extra ?? {};
  // The source's byte-level strings where the import kept them, else the (identical) decoded ones.
  const logits = (x: FeatureDashboard["posLogits"], raw: unknown) => ({
    str: Array.isArray(raw) ? (raw as string[]) : (x ?? []).map((t) => t.token),
    values: (x ?? []).map((t) => t.value),
  });
  const pos = logits(d?.posLogits, extra.pos_str);
  const neg = logits(d?.negLogits, extra.neg_str);
  const { pos_str: _p, neg_str: _n, ...sourceExtra } = extra;
  return {
    // Source fields without a column (n_prompts_total, dataset, ...); the named fields below win.
    ...sourceExtra,
    maxActApprox: r.max_activation ?? 0,
    hasVector: vector.length > 0,
    vector,
    topkCosSimIndices: r.nn_indices ?? [],
    topkCosSimValues: r.nn_cosines ?? [],
    neuron_alignment_indices: d?.neuronAlignment?.indices ?? (r.neuron_index !== null ? [r.neuron_index] : []),
    neuron_alignment_values: d?.neuronAlignment?.values ?? (r.neuron_cosine !== null ? [r.neuron_cosine] : []),
    neuron_alignment_l1: d?.neuronAlignment?.l1 ?? [],
    correlated_neurons_indices: d?.correlatedNeurons?.indices ?? (r.neuron_corr_index !== null ? [r.neuron_corr_index] : []),
    correlated_neurons_pearson: d?.correlatedNeurons?.pearson ?? (r.neuron_corr_pearson !== null ? [r.neuron_corr_pearson] : []),
    correlated_neurons_l1: d?.correlatedNeurons?.l1 ?? [],
    correlated_features_indices: d?.correlatedFeatures?.indices ?? [],
    correlated_features_pearson: d?.correlatedFeatures?.pearson ?? [],
    correlated_features_l1: d?.correlatedFeatures?.l1 ?? [],
    neg_str: neg.str,
    neg_values: neg.values,
    pos_str: pos.str,
    pos_values: pos.values,
    frac_nonzero: r.density ?? 0,
    freq_hist_data_bar_heights: d?.freqHistogram?.heights ?? [],
    freq_hist_data_bar_values: d?.freqHistogram?.values ?? [],
    logits_hist_data_bar_heights: d?.logitsHistogram?.heights ?? [],
    logits_hist_data_bar_values: d?.logitsHistogram?.values ?? [],
    decoder_weights_dist: Array.isArray(extra.decoder_weights_dist) ? extra.decoder_weights_dist : [],
    monoscope: {
      decoderNorm: norm,
      encoder: r.encoder ? Array.from(parseVectorLiteral(r.encoder)) : null,
      bEnc: r.b_enc,
      threshold: r.threshold,
      density: r.density,
      maxActivation: r.max_activation,
      neuronIndex: r.neuron_index,
      neuronCosine: r.neuron_cosine,
      neuronCorrIndex: r.neuron_corr_index,
      neuronCorrPearson: r.neuron_corr_pearson,
      dashboard: d,
    },
  };
}

function dashboardOf(r: FeatureExportRow): FeatureDashboard {
  return {
    posLogits: r.pos_logits,
    negLogits: r.neg_logits,
    freqHistogram: r.freq_histogram,
    logitsHistogram: r.logits_histogram,
    correlatedNeurons: r.correlated_neurons,
    correlatedFeatures: r.correlated_features,
    neuronAlignment: r.neuron_alignment,
    extra: r.extra,
  };
}

function activationRecord(r: ActivationExportRow) {
  let min = Infinity;
  for (const v of r.values) if (v < min) min = v;
  const { binMin, binMax, binContains, ...sourceFields } = r.source_fields ?? {};
  const top = r.kind === "top";
  const has = (k: string) => r.source_fields !== null && k in r.source_fields;
  return {
    // The tokens as the source wrote them (byte-level BPE); decoded ones when that is all there was.
    tokens: r.raw_tokens ?? r.tokens,
    values: r.values,
    maxValue: r.max_value,
    maxValueTokenIndex: r.max_token_index,
    minValue: min,
    // Neuronpedia/SAEDashboard mark top examples with binMin -1; the source's own bins win.
    binMin: has("binMin") ? binMin : top ? -1 : r.bin_min,
    binMax: has("binMax") ? binMax : top ? r.max_value : r.bin_max,
    binContains: has("binContains") ? binContains : top ? -1 : null,
    ...sourceFields,
    dataSource: r.source,
    monoscope: { kind: r.kind, decoded: r.raw_tokens === null, text: r.text },
  };
}
