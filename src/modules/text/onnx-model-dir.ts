// A language model exported to ONNX in a local directory, in the layout transformers.js and
// optimum write: the graph at onnx/model.onnx or model.onnx (transformers.js's older
// onnx/decoder_model.onnx too), tokenizer.json, config.json, optionally tokenizer_config.json.
// An optional monoscope.json, {"tensors": {"<hook_name>": "<graph tensor>"}}, names the tensor of
// any hook the GPT-2 mapping does not cover, so the choice lives with the model.
// Nothing is ever downloaded: a missing file is an error that names the directory and the file.
import { existsSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { AppError, ErrorCode } from "../../errors.ts";

export const MODEL_FILE_CANDIDATES = ["onnx/model.onnx", "model.onnx", "onnx/decoder_model.onnx"] as const;

/** MONOSCOPE_MODEL_DIR_<MODEL_ID>: the id upper-cased, every character outside A-Z and 0-9 replaced by "_". */
export function modelDirEnvVar(modelId: string): string {
  return `MONOSCOPE_MODEL_DIR_${modelId.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`;
}

export interface ModelConfig {
  modelType: string | null;
  nLayer: number | null;
  nEmbd: number | null;
  /** Longest sequence the position embeddings cover. */
  nPositions: number | null;
  bosTokenId: number | null;
  eosTokenId: number | null;
}

export interface ModelDir {
  dir: string;
  modelFile: string;
  tokenizerJson: string;
  /** null when the directory has none (the tokenizer then runs with its defaults). */
  tokenizerConfigJson: string | null;
  config: ModelConfig;
  /** monoscope.json's "tensors": hook name -> graph tensor, for hooks the GPT-2 mapping does not know. */
  hookTensors: Readonly<Record<string, string>>;
}

function dirError(dir: string, problem: string, label?: string): AppError {
  const where = label ? `${dir} (${label})` : dir;
  return new AppError(ErrorCode.BAD_USER_INPUT, `ONNX model directory ${where}: ${problem}`, { details: { dir } });
}

const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

/** Reads config.json's GPT-2 style keys (n_layer/num_hidden_layers, n_embd/hidden_size, …). */
export function parseModelConfig(json: Record<string, unknown>): ModelConfig {
  const first = (...keys: string[]) => keys.map((k) => num(json[k])).find((v) => v !== null) ?? null;
  return {
    modelType: typeof json.model_type === "string" ? json.model_type : null,
    nLayer: first("n_layer", "num_hidden_layers"),
    nEmbd: first("n_embd", "hidden_size", "d_model"),
    nPositions: first("n_positions", "max_position_embeddings", "n_ctx"),
    bosTokenId: first("bos_token_id"),
    eosTokenId: first("eos_token_id"),
  };
}

/**
 * Checks the directory's layout (cheap: no file is read but config.json) and returns its paths.
 * label says where the directory came from (an env var, a flag) for the error message.
 */
export function openModelDir(dirArg: string, opts: { modelFile?: string; label?: string } = {}): ModelDir {
  const dir = resolve(dirArg);
  const label = opts.label;
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw dirError(dir, "does not exist or is not a directory", label);
  let modelFile: string;
  if (opts.modelFile) {
    modelFile = resolve(dir, opts.modelFile);
    if (!existsSync(modelFile)) throw dirError(dir, `missing ${opts.modelFile} (the model file asked for)`, label);
  } else {
    const found = MODEL_FILE_CANDIDATES.map((f) => join(dir, f)).find((f) => existsSync(f));
    if (!found) throw dirError(dir, `missing the ONNX graph: none of ${MODEL_FILE_CANDIDATES.join(", ")}`, label);
    modelFile = found;
  }
  const missing = ["tokenizer.json", "config.json"].filter((f) => !existsSync(join(dir, f)));
  if (missing.length) throw dirError(dir, `missing ${missing.join(" and ")}`, label);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
  } catch (e) {
    throw dirError(dir, `config.json is not valid JSON (${(e as Error).message})`, label);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) throw dirError(dir, "config.json is not a JSON object", label);
  const tokenizerConfig = join(dir, "tokenizer_config.json");
  const hookTensors = readHookTensors(dir, label);
  return {
    dir,
    modelFile,
    tokenizerJson: join(dir, "tokenizer.json"),
    tokenizerConfigJson: existsSync(tokenizerConfig) ? tokenizerConfig : null,
    config: parseModelConfig(json as Record<string, unknown>),
    hookTensors,
  };
}

function readHookTensors(dir: string, label: string | undefined): Record<string, string> {
  const file = join(dir, "monoscope.json");
  if (!existsSync(file)) return {};
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw dirError(dir, `monoscope.json is not valid JSON (${(e as Error).message})`, label);
  }
  const tensors = (json as { tensors?: unknown } | null)?.tensors;
  const ok = typeof tensors === "object" && tensors !== null && !Array.isArray(tensors) && Object.values(tensors).every((v) => typeof v === "string" && v.length > 0);
  if (!ok) throw dirError(dir, 'monoscope.json: "tensors" must be an object of hook name -> tensor name strings', label);
  return { ...(tensors as Record<string, string>) };
}

/** Reads a JSON file of the model directory, naming it when it is not JSON. */
export function readDirJson(dir: string, file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw dirError(dir, `${file.slice(dir.length + 1)} is not valid JSON (${(e as Error).message})`);
  }
}
