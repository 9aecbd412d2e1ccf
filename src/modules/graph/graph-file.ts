// Reads one attribution-graph JSON file (circuit-tracer / Neuronpedia format): checks it against
// the published schema (graph-schema.json, vendored) and our own rules (every link endpoint
// exists, numbers finite, node ids unique and consistent with their layer, position and global
// feature id), then splits each node into the columns queries use and the remaining fields kept
// verbatim. Every problem is "file: path: problem"; a refused file is never partly stored.
import { readFileSync } from "node:fs";
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import { fileError } from "../../errors.ts";
import { packagePath } from "../../paths.ts";
import type { GraphNodeKind } from "./graph.types.ts";
import { FeatureIdCheck } from "./graph-ids.ts";

export interface ParsedNode {
  nodeId: string;
  kind: GraphNodeKind;
  layer: string;
  ctxIdx: number;
  /** Columns hold numbers only; a null or missing value stays as it was in fields. */
  influence: number | null;
  activation: number | null;
  tokenProb: number | null;
  clerp: string | null;
  /** The SAE feature index a FEATURE node decodes to (null for other kinds). */
  featureIdx: number | null;
  /** Every other field of the node, verbatim (feature, feature_type, jsNodeId, …). */
  fields: Record<string, unknown>;
}

export interface ParsedLink {
  /** Positions in nodes. */
  source: number;
  target: number;
  weight: number;
  extra: Record<string, unknown> | null;
}

export interface ParsedGraph {
  slug: string;
  modelId: string;
  prompt: string;
  promptTokens: string[];
  /** metadata without slug, scan, prompt and prompt_tokens. */
  metadata: Record<string, unknown>;
  qParams: Record<string, unknown>;
  /** Top-level keys besides metadata, qParams, nodes and links. */
  extra: Record<string, unknown>;
  nodes: ParsedNode[];
  links: ParsedLink[];
}

type Json = Record<string, unknown>;

let validator: ValidateFunction | null = null;
function schemaValidator(): ValidateFunction {
  if (!validator) {
    const schema = JSON.parse(readFileSync(packagePath("src", "modules", "graph", "graph-schema.json"), "utf8"));
    // The schema is draft-07 with a few 2020-12 keywords (prefixItems) and annotations (examples):
    // non-strict mode ignores what draft-07 does not define, as Neuronpedia's own check does.
    validator = new Ajv({ strict: false, allErrors: false }).compile(schema);
  }
  return validator;
}

/** "/nodes/3/feature" → "nodes[3].feature". */
export function jsonPath(pointer: string): string {
  if (!pointer) return "(root)";
  let out = "";
  for (const raw of pointer.slice(1).split("/")) {
    const part = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    out += /^\d+$/.test(part) ? `[${part}]` : out ? `.${part}` : part;
  }
  return out;
}

function schemaProblem(e: ErrorObject): [string, string] {
  const path = jsonPath(e.instancePath);
  if (e.keyword === "required") return [path === "(root)" ? String(e.params.missingProperty) : `${path}.${String(e.params.missingProperty)}`, "is required"];
  return [path, e.message ?? "does not match the schema"];
}

/** Checks a whole graph object against the published schema; throws "file: path: problem". */
export function assertSchema(file: string, doc: unknown): void {
  const validate = schemaValidator();
  if (!validate(doc)) {
    const [path, problem] = schemaProblem(validate.errors![0]!);
    throw fileError(file, path, `${problem} (graph-schema.json)`);
  }
}

// PostgreSQL text and jsonb cannot hold NUL, and a lone surrogate cannot be encoded as UTF-8:
// either would fail mid-write or come back changed, so both are refused up front.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function assertStorable(file: string, v: unknown, path: string): void {
  if (typeof v === "string") {
    if (v.includes("\u0000")) throw fileError(file, path, "contains a NUL character, which PostgreSQL cannot store");
    if (LONE_SURROGATE.test(v)) throw fileError(file, path, "contains an unpaired UTF-16 surrogate (not valid Unicode)");
  } else if (typeof v === "number") {
    if (!Number.isFinite(v)) throw fileError(file, path, `${v} is not a finite number`);
  } else if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) assertStorable(file, v[i], `${path}[${i}]`);
  } else if (v !== null && typeof v === "object") {
    for (const [k, x] of Object.entries(v)) {
      assertStorable(file, k, `${path}.${k} (key)`);
      assertStorable(file, x, `${path}.${k}`);
    }
  }
}

export function kindOf(featureType: string): GraphNodeKind {
  const t = featureType.toLowerCase();
  if (t === "embedding") return "EMBEDDING";
  if (t === "logit") return "LOGIT";
  if (t.includes("error")) return "ERROR";
  return "FEATURE";
}

const SLUG_MAX = 256;

function parseNode(file: string, raw: Json, i: number, ids: FeatureIdCheck): ParsedNode {
  const at = `nodes[${i}]`;
  const fields: Json = { ...raw };
  const nodeId = raw.node_id as string;
  delete fields.node_id;
  const layer = String(raw.layer);
  if (typeof raw.layer === "string") delete fields.layer;
  const ctxIdx = raw.ctx_idx as number;
  delete fields.ctx_idx;
  const num = (key: string): number | null => {
    const v = raw[key];
    if (typeof v !== "number") return null;
    delete fields[key];
    return v;
  };
  const influence = num("influence");
  const activation = num("activation");
  const tokenProb = num("token_prob");
  let clerp: string | null = null;
  if (typeof raw.clerp === "string") {
    clerp = raw.clerp;
    delete fields.clerp;
  }
  if (!Number.isSafeInteger(ctxIdx) || ctxIdx < 0 || ctxIdx > 2 ** 31 - 1) throw fileError(file, `${at}.ctx_idx`, `${ctxIdx} is not a token position`);
  const kind = kindOf(raw.feature_type as string);
  const featureIdx = ids.check(at, kind, nodeId, layer, ctxIdx, raw.feature as number | null);
  return { nodeId, kind, layer, ctxIdx, influence, activation, tokenProb, clerp, featureIdx, fields };
}

/** Parses and checks a graph file's text; `file` names it in errors. */
export function parseGraphFile(file: string, text: string): ParsedGraph {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw fileError(file, "(root)", `not valid JSON: ${(e as Error).message}`);
  }
  assertSchema(file, doc);
  return parseGraphObject(file, doc as Json);
}

/** The same checks on an already-parsed object that the schema accepts. */
export function parseGraphObject(file: string, doc: Json): ParsedGraph {
  assertStorable(file, doc, "(root)");
  const { metadata: m, qParams, nodes, links, ...extra } = doc as { metadata: Json; qParams: Json; nodes: Json[]; links: Json[] };
  const { slug, scan, prompt, prompt_tokens, ...metadata } = m as Json & { slug: string; scan: string; prompt: string; prompt_tokens: string[] };
  if (slug.trim() === "" || slug.length > SLUG_MAX || /[\u0000-\u001f\u007f]/.test(slug)) {
    throw fileError(file, "metadata.slug", `${JSON.stringify(slug.slice(0, 80))} is not a usable slug: 1 to ${SLUG_MAX} characters, no control characters`);
  }
  if (scan.trim() === "") throw fileError(file, "metadata.scan", "must name the model (it becomes the graph's modelId)");
  const version = metadata.schema_version;
  if (version !== undefined && version !== 0 && version !== 1) throw fileError(file, "metadata.schema_version", `${JSON.stringify(version)} is not 0 or 1`);
  const ids = new FeatureIdCheck(file, version === 1 ? 1 : 0);
  const parsedNodes = nodes.map((n, i) => parseNode(file, n, i, ids));
  ids.finish();
  const index = new Map<string, number>();
  parsedNodes.forEach((n, i) => {
    const prev = index.get(n.nodeId);
    if (prev !== undefined) throw fileError(file, `nodes[${i}].node_id`, `${JSON.stringify(n.nodeId)} repeats nodes[${prev}]`);
    index.set(n.nodeId, i);
  });
  const parsedLinks = links.map((l, i): ParsedLink => {
    const { source, target, weight, ...rest } = l as Json & { source: string; target: string; weight: number };
    const s = index.get(source);
    if (s === undefined) throw fileError(file, `links[${i}].source`, `no node has id ${JSON.stringify(source)}`);
    const t = index.get(target);
    if (t === undefined) throw fileError(file, `links[${i}].target`, `no node has id ${JSON.stringify(target)}`);
    return { source: s, target: t, weight, extra: Object.keys(rest).length ? rest : null };
  });
  return { slug, modelId: scan, prompt, promptTokens: prompt_tokens, metadata, qParams, extra, nodes: parsedNodes, links: parsedLinks };
}
