// `monoscope ingest neuronpedia <file-or-dir>`: SAEDashboard batch JSON files
// ({model_id, layer, sae_set, features: [...]}, activations inline) and Neuronpedia
// export directories (features/, activations/, explanations/ JSONL, gzipped or not,
// with source.jsonl and, from Monoscope, monoscope.json). A new SAE is created; an SAE
// that already holds weights (e.g. from a SAELens checkpoint) gets the dashboards,
// examples and labels merged in.
import { readdir, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import { badInput, conflict, fileError } from "../../errors.ts";
import type { Logger } from "../../logger.ts";
import { fingerprintFiles } from "../fingerprint.ts";
import type { IngestOptions, IngestService } from "../ingest.service.ts";
import type { ActivationRow, FeatureRow, IngestSink, IngestSummary, SaeArtifact } from "../ingest.types.ts";
import { readJsonl, readTextFile } from "../jsonl.ts";
import { featureIndex, parseActivation, parseExplanation, parseFeature, reader } from "./records.ts";

export interface NeuronpediaImport extends Pick<IngestOptions, "replace" | "progress"> {
  path: string;
  saeId?: string;
  modelId?: string;
  familyId?: string;
  dIn?: number;
  dSae?: number;
  log?: Logger;
}

interface Layout {
  kind: "saedashboard" | "export";
  files: { features: string[]; activations: string[]; explanations: string[] };
  meta: ExportMeta;
}

/** What the export says about its SAE (any field may be unknown). */
interface ExportMeta {
  modelId: string | null;
  sourceId: string | null;
  layer: number | null;
  dIn: number | null;
  dSae: number | null;
  hookName: string | null;
  sae: Record<string, unknown> | null;
  extraFiles: string[];
}

const BATCH = 256;

export async function importNeuronpedia(ingest: IngestService, opts: NeuronpediaImport): Promise<IngestSummary> {
  const layout = await detectLayout(opts.path);
  const { meta } = layout;
  const modelId = opts.modelId ?? meta.modelId;
  const npId = meta.sourceId ? `${meta.modelId ?? modelId}/${meta.sourceId}` : null;
  const saeId = opts.saeId ?? npId;
  const existing = saeId ? await ingest.findSae(saeId) : null;
  const merge = !!existing && existing.status === "ready" && !["neuronpedia", "saedashboard"].includes(String(existing.source.format));
  if (merge && existing.modelId !== modelId) {
    throw conflict(`SAE ${JSON.stringify(saeId)} belongs to model ${JSON.stringify(existing.modelId)}, but ${opts.path} is for ${JSON.stringify(modelId)}`);
  }
  const dIn = merge ? existing.dIn : (opts.dIn ?? meta.dIn);
  const dSae = merge ? existing.dSae : (opts.dSae ?? meta.dSae);
  if (merge && opts.dSae !== undefined && opts.dSae !== existing.dSae) throw badInput(`--d-sae: ${opts.dSae} differs from SAE ${saeId}'s d_sae ${existing.dSae}`);
  // Every option the files cannot stand in for, at once: one run tells the user all they must add.
  const missing = [
    !modelId && `--model: required (${opts.path} does not name its model)`,
    !saeId && `--sae: required (${opts.path} does not name its source)`,
    !dIn && `--d-in: required (${opts.path} has no decoder vectors or config that give the SAE's input dimension)`,
    !dSae && `--d-sae: required (${opts.path} does not say how many features the SAE has)`,
  ].filter((m): m is string => typeof m === "string");
  if (missing.length || !modelId || !saeId || !dIn || !dSae) throw badInput(missing.join("; "), { missing: missing.map((m) => m.split(":")[0]) });
  if (opts.dIn !== undefined && meta.dIn !== null && opts.dIn !== meta.dIn) {
    throw badInput(`--d-in: ${opts.dIn} differs from the export's vectors/config (${meta.dIn})`);
  }

  const all = [...layout.files.features, ...layout.files.activations, ...layout.files.explanations, ...meta.extraFiles];
  const contentHash = await fingerprintFiles(all);
  const source = { format: layout.kind === "export" ? "neuronpedia" : "saedashboard", path: opts.path, files: all.map((f) => basename(f)) };
  const produce = (sink: IngestSink) => (layout.kind === "export" ? produceExport(sink, layout, dIn) : produceBatches(sink, layout, dIn));
  const options = { replace: opts.replace, progress: opts.progress, fields: { decoder: "vector" } };
  if (merge) return ingest.mergeIntoSae(saeId, { source, contentHash }, produce, options);

  const m = meta.sae ?? {};
  const str = (k: string) => (typeof m[k] === "string" ? (m[k] as string) : null);
  const num = (k: string) => (typeof m[k] === "number" ? (m[k] as number) : null);
  const artifact: SaeArtifact = {
    model: { id: modelId, ...(typeof m.modelDModel === "number" && m.modelDModel !== dIn ? { dModel: m.modelDModel } : {}) },
    family: opts.familyId ? { id: opts.familyId } : str("familyId") ? { id: str("familyId")! } : null,
    sae: {
      id: saeId,
      name: str("name") ?? undefined,
      hookName: str("hookName") ?? meta.hookName,
      layer: num("layer") ?? meta.layer,
      // Left null when the files do not say (SAEDashboard batches never do): no guessed defaults.
      architecture: str("architecture"),
      dIn,
      dSae,
      dtype: str("dtype"),
      k: num("k"),
      applyBDecToInput: typeof m.applyBDecToInput === "boolean" ? m.applyBDecToInput : null,
      bDec: Array.isArray(m.bDec) && m.bDec.length ? (m.bDec as number[]) : null,
      neuronpediaId: str("neuronpediaId") ?? npId,
      config: m.config && typeof m.config === "object" ? (m.config as Record<string, unknown>) : {},
    },
    source,
    contentHash,
  };
  return ingest.ingestSae(artifact, produce, options);
}

async function produceBatches(sink: IngestSink, layout: Layout, dIn: number): Promise<void> {
  for (const file of layout.files.features) {
    const data = await readBatchJson(file);
    const features = data.features as unknown[];
    let rows: FeatureRow[] = [];
    let acts: ActivationRow[] = [];
    for (let i = 0; i < features.length; i++) {
      const r = reader(features[i], `${file}: features[${i}]`);
      const index = featureIndex(r, "feature_index");
      const row = parseFeature(r, index, dIn);
      const raw = r.raw("activations");
      if (raw !== undefined && raw !== null && !Array.isArray(raw)) throw fileError(r.where, "activations", "is not an array");
      let max = row.maxActivation ?? null;
      ((raw as unknown[] | undefined) ?? []).forEach((a, j) => {
        const act = parseActivation(reader(a, `${file}: features[${i}].activations[${j}]`), index, true);
        for (const v of act.values) if (max === null || v > max) max = v;
        acts.push(act);
      });
      rows.push({ ...row, maxActivation: max });
      if (rows.length >= BATCH) {
        await sink.features(rows);
        await sink.activations(acts);
        rows = [];
        acts = [];
      }
    }
    await sink.features(rows);
    await sink.activations(acts);
  }
}

async function produceExport(sink: IngestSink, layout: Layout, dIn: number): Promise<void> {
  for (const file of layout.files.features) {
    let rows: FeatureRow[] = [];
    for await (const { line, value } of readJsonl(file)) {
      const r = reader(value, `${file}:${line}`);
      rows.push(parseFeature(r, featureIndex(r, "index"), dIn));
      if (rows.length >= BATCH) {
        await sink.features(rows);
        rows = [];
      }
    }
    await sink.features(rows);
  }
  for (const file of layout.files.activations) {
    let acts: ActivationRow[] = [];
    for await (const { line, value } of readJsonl(file)) {
      const r = reader(value, `${file}:${line}`);
      acts.push(parseActivation(r, featureIndex(r, "index"), false));
      if (acts.length >= 4096) {
        await sink.activations(acts);
        acts = [];
      }
    }
    await sink.activations(acts);
  }
  for (const file of layout.files.explanations) {
    const rows = [];
    for await (const { line, value } of readJsonl(file)) {
      const r = reader(value, `${file}:${line}`);
      const e = parseExplanation(r, featureIndex(r, "index"));
      if (e) rows.push(e);
    }
    await sink.explanations(rows);
  }
}

async function readBatchJson(file: string): Promise<Record<string, unknown>> {
  let data: unknown;
  try {
    data = JSON.parse(await readTextFile(file));
  } catch (e) {
    if ((e as { code?: string }).code) throw e;
    throw fileError(file, "json", `is not valid JSON (${(e as Error).message})`);
  }
  if (!data || typeof data !== "object" || !Array.isArray((data as Record<string, unknown>).features)) {
    throw fileError(file, "features", "is missing: not a SAEDashboard batch ({model_id, layer, sae_set, features: [...]})");
  }
  return data as Record<string, unknown>;
}

const natural = (a: string, b: string) => a.localeCompare(b, "en", { numeric: true });

async function listJsonl(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return names.filter((n) => /\.jsonl(\.gz)?$/.test(n)).sort(natural).map((n) => join(dir, n));
}

async function detectLayout(path: string): Promise<Layout> {
  const st = await stat(path).catch(() => null);
  if (!st) throw fileError(path, "path", "not found");
  if (st.isFile()) return batchLayout([path]);
  const [features, activations, explanations] = await Promise.all(["features", "activations", "explanations"].map((d) => listJsonl(join(path, d))));
  if (features!.length + activations!.length + explanations!.length > 0) {
    return { kind: "export", files: { features: features!, activations: activations!, explanations: explanations! }, meta: await exportMeta(path, features!) };
  }
  const batches = (await readdir(path)).filter((n) => /^batch-\d+\.json(\.gz)?$/.test(n)).sort(natural).map((n) => join(path, n));
  if (batches.length) return batchLayout(batches);
  throw fileError(path, "directory", "is neither a Neuronpedia export (features/, activations/, explanations/) nor a SAEDashboard output (batch-N.json)");
}

async function batchLayout(files: string[]): Promise<Layout> {
  const first = await readBatchJson(files[0]!);
  const r = reader(first, files[0]!);
  const layer = r.int("layer");
  const set = r.str("sae_set");
  const suffix = r.str("sae_id_suffix");
  let dIn: number | null = null;
  for (const f of first.features as Record<string, unknown>[]) {
    if (Array.isArray(f?.vector) && f.vector.length) {
      dIn = f.vector.length;
      break;
    }
  }
  return {
    kind: "saedashboard",
    files: { features: files, activations: [], explanations: [] },
    meta: {
      modelId: r.str("model_id"),
      sourceId: layer !== null && set ? `${layer}-${set}${suffix ? `__${suffix}` : ""}` : null,
      layer,
      dIn,
      dSae: null,
      hookName: null,
      sae: null,
      extraFiles: [],
    },
  };
}

async function firstJsonLine(file: string): Promise<Record<string, unknown> | null> {
  for await (const { value } of readJsonl(file)) return value && typeof value === "object" ? (value as Record<string, unknown>) : null;
  return null;
}

async function exportMeta(dir: string, featureFiles: string[]): Promise<ExportMeta> {
  const meta: ExportMeta = { modelId: null, sourceId: null, layer: null, dIn: null, dSae: null, hookName: null, sae: null, extraFiles: [] };
  const mono = join(dir, "monoscope.json");
  if (await stat(mono).catch(() => null)) {
    meta.extraFiles.push(mono);
    try {
      meta.sae = JSON.parse(await readTextFile(mono)) as Record<string, unknown>;
    } catch (e) {
      throw fileError(mono, "json", `is not valid JSON (${(e as Error).message})`);
    }
  }
  const sourceFile = join(dir, "source.jsonl");
  if (await stat(sourceFile).catch(() => null)) {
    meta.extraFiles.push(sourceFile);
    const s = await firstJsonLine(sourceFile);
    if (s) {
      if (typeof s.id === "string") meta.sourceId = s.id;
      if (typeof s.modelId === "string") meta.modelId = s.modelId;
      let cfg: unknown = s.saelensConfig;
      if (typeof cfg === "string") {
        try {
          cfg = JSON.parse(cfg);
        } catch {
          cfg = null;
        }
      }
      if (cfg && typeof cfg === "object") {
        const c = cfg as Record<string, unknown>;
        const md = (c.metadata && typeof c.metadata === "object" ? c.metadata : {}) as Record<string, unknown>;
        if (typeof c.d_in === "number") meta.dIn = c.d_in;
        if (typeof c.d_sae === "number") meta.dSae = c.d_sae;
        const hook = c.hook_name ?? md.hook_name;
        if (typeof hook === "string") meta.hookName = hook;
      }
    }
  }
  if (meta.sae) {
    if (typeof meta.sae.modelId === "string") meta.modelId ??= meta.sae.modelId;
    if (typeof meta.sae.dIn === "number") meta.dIn = meta.sae.dIn;
    if (typeof meta.sae.dSae === "number") meta.dSae = meta.sae.dSae;
  }
  if (featureFiles.length && (meta.dIn === null || meta.modelId === null || meta.sourceId === null)) {
    const f = await firstJsonLine(featureFiles[0]!);
    if (f) {
      if (meta.dIn === null && Array.isArray(f.vector) && f.vector.length) meta.dIn = f.vector.length;
      if (meta.modelId === null && typeof f.modelId === "string") meta.modelId = f.modelId;
      if (meta.sourceId === null && typeof f.layer === "string") meta.sourceId = f.layer;
    }
  }
  const m = meta.sourceId ? /^(\d+)-/.exec(meta.sourceId) : null;
  if (m) meta.layer = Number(m[1]);
  return meta;
}
