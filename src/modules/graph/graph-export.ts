// Rebuilds a graph file from its stored rows (never from a stored copy): the inverse of the
// column split in graph-file.ts, so the result equals the original file field by field. Keys come
// out in circuit-tracer's order where known, then the rest as stored.
import type { GraphExportRows } from "./graph.repository.ts";

type Json = Record<string, unknown>;

const NODE_ORDER = ["node_id", "feature", "layer", "ctx_idx", "feature_type", "token_prob", "is_target_logit", "run_idx", "reverse_ctx_idx", "jsNodeId", "clerp", "influence", "activation"];

function ordered(obj: Json, order: readonly string[]): Json {
  const out: Json = {};
  for (const k of order) if (k in obj) out[k] = obj[k];
  for (const k of Object.keys(obj)) if (!(k in out)) out[k] = obj[k];
  return out;
}

export function buildGraphFile(rows: GraphExportRows): Json {
  const { graph, nodes, links } = rows;
  const metadata = ordered(
    { slug: graph.slug, scan: graph.modelId, prompt_tokens: graph.promptTokens, prompt: graph.prompt, ...graph.metadata },
    ["slug", "scan", "transcoder_list", "prompt_tokens", "prompt", "node_threshold", "schema_version"],
  );
  const outNodes = nodes.map((n) => {
    const o: Json = { node_id: n.nodeId, ...n.fields };
    // A column is set only where the file had a value of that type; otherwise fields kept the original.
    if (!("layer" in n.fields)) o.layer = n.layer;
    o.ctx_idx = n.ctxIdx;
    if (n.influence !== null) o.influence = n.influence;
    if (n.activation !== null) o.activation = n.activation;
    if (n.tokenProb !== null) o.token_prob = n.tokenProb;
    if (n.clerp !== null) o.clerp = n.clerp;
    return ordered(o, NODE_ORDER);
  });
  const outLinks = new Array<Json>(links.source.length);
  for (let i = 0; i < outLinks.length; i++) {
    const extra = links.extra[i];
    const l: Json = { source: nodes[links.source[i]!]!.nodeId, target: nodes[links.target[i]!]!.nodeId, weight: links.weight[i] };
    outLinks[i] = extra ? { ...l, ...extra } : l;
  }
  return { metadata, qParams: graph.qParams, nodes: outNodes, links: outLinks, ...graph.extra };
}
