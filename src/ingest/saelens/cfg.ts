// SAELens cfg.json, any version: v6 nests run metadata under "metadata"; v3-v5 keep
// it top-level (hook_layer, activation_fn_str/kwargs for topk); early training
// configs say hook_point / hook_point_layer. No "architecture" key means standard.
import { fileError } from "../../errors.ts";

export interface SaelensCfg {
  architecture: string;
  dIn: number | null;
  dSae: number | null;
  dtype: string | null;
  k: number | null;
  applyBDecToInput: boolean;
  modelName: string | null;
  hookName: string | null;
  hookHeadIndex: number | null;
  layer: number | null;
  neuronpediaId: string | null;
  contextSize: number | null;
  datasetPath: string | null;
  normalizeActivations: string | null;
  raw: Record<string, unknown>;
}

export function parseSaelensCfg(text: string, file: string): SaelensCfg {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw fileError(file, "json", `is not valid JSON (${(e as Error).message})`);
  }
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) throw fileError(file, "json", "is not a JSON object");
  const cfg = raw as Record<string, unknown>;
  const meta = cfg.metadata && typeof cfg.metadata === "object" && !Array.isArray(cfg.metadata) ? (cfg.metadata as Record<string, unknown>) : {};
  // v6 moved run metadata under "metadata"; older files have it at the top level.
  const pick = (...keys: string[]) => {
    for (const k of keys) {
      if (meta[k] !== undefined && meta[k] !== null) return meta[k];
      if (cfg[k] !== undefined && cfg[k] !== null) return cfg[k];
    }
    return null;
  };
  const int = (field: string, v: unknown, min = 0): number | null => {
    if (v === null || v === undefined) return null;
    if (typeof v !== "number" || !Number.isInteger(v) || v < min) throw fileError(file, field, `${JSON.stringify(v)} is not an integer >= ${min}`);
    return v;
  };
  const str = (field: string, v: unknown): string | null => {
    if (v === null || v === undefined) return null;
    if (typeof v !== "string") throw fileError(file, field, `${JSON.stringify(v)} is not a string`);
    return v;
  };

  const dIn = int("d_in", cfg.d_in, 1);
  let dSae = int("d_sae", cfg.d_sae, 1);
  if (dSae === null && dIn !== null && cfg.expansion_factor !== undefined) {
    const ef = cfg.expansion_factor;
    if (typeof ef !== "number" || !(ef > 0)) throw fileError(file, "expansion_factor", `${JSON.stringify(ef)} is not a positive number`);
    dSae = Math.round(dIn * ef);
  }
  const activationFn = str("activation_fn_str", pick("activation_fn_str", "activation_fn"));
  const kwargs = pick("activation_fn_kwargs");
  let architecture = str("architecture", cfg.architecture) ?? (activationFn === "topk" ? "topk" : "standard");
  architecture = architecture.trim() || "standard";
  const kRaw = cfg.k ?? (kwargs && typeof kwargs === "object" ? (kwargs as Record<string, unknown>).k : undefined);
  // batchtopk configs may store k as a float (SAELens 6.11+).
  let k: number | null = null;
  if (kRaw !== undefined && kRaw !== null) {
    if (typeof kRaw !== "number" || !Number.isFinite(kRaw) || kRaw <= 0) throw fileError(file, "k", `${JSON.stringify(kRaw)} is not a positive number`);
    k = Math.round(kRaw);
  }
  const hookName = str("hook_name", pick("hook_name", "hook_point"));
  let layer = int("hook_layer", pick("hook_layer", "hook_point_layer"));
  if (layer === null && hookName) {
    const m = /(?:^|\.)(?:blocks|layers|h)\.(\d+)\./.exec(hookName);
    if (m) layer = Number(m[1]);
  }
  const applyRaw = cfg.apply_b_dec_to_input;
  if (applyRaw !== undefined && applyRaw !== null && typeof applyRaw !== "boolean") {
    throw fileError(file, "apply_b_dec_to_input", `${JSON.stringify(applyRaw)} is not true or false`);
  }
  const normalize = pick("normalize_activations");
  return {
    architecture,
    dIn,
    dSae,
    dtype: str("dtype", cfg.dtype)?.replace(/^torch\./, "") ?? null,
    k,
    applyBDecToInput: (applyRaw as boolean | undefined) ?? true,
    modelName: str("model_name", pick("model_name")),
    hookName,
    hookHeadIndex: int("hook_head_index", pick("hook_head_index")),
    layer,
    neuronpediaId: str("neuronpedia_id", pick("neuronpedia_id")),
    contextSize: int("context_size", pick("context_size")),
    datasetPath: str("dataset_path", pick("dataset_path")),
    normalizeActivations: typeof normalize === "string" ? normalize : null,
    raw: cfg,
  };
}
