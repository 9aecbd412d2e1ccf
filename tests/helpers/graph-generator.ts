// Attribution graphs in Neuronpedia's graph JSON (the shape circuit-tracer writes; see
// ../shared/realdata/graphs/circuit-tracer_gemma-3-1b_123.json) with planted structure, so tests know
// the right paths and mediators exactly, in either global-feature-id schema:
//   schema 1: feature = Cantor pairing of (layer, index) = (l+i)(l+i+1)/2 + i
//   schema 0: feature = index + layer·10^ceil(log10(nFeatures))
// Node ids: features `{layer}_{index}_{ctx}`, errors `{layer}_-1_{ctx}`, embeddings `E_{tokenId}_{ctx}`,
// logits `{nLayers+1}_{tokenId}_{ctx}`.
//
// The planted circuit (the "missing concept" of a two-hop question):
//   E_subject → A (layer 1) → M (layer mid, no embedding input) → C (layer late) → target logit
// with strong weights, plus an error node feeding M and the logit (it counts in the normalisation),
// distractor paths (a weaker positive one, a negative one, a direct embedding → logit link) and
// weak noise nodes and links in the same layered DAG. M has the largest indirect effect and
// directFromPrompt 0; the top path into the target is the chain.
import { seededRandom } from "../../src/util/random.ts";

export type IdSchema = 0 | 1;

export interface NeuronpediaNode {
  node_id: string;
  feature: number | null;
  layer: string;
  ctx_idx: number;
  feature_type: string;
  jsNodeId: string;
  clerp: string;
  influence: number | null;
  activation: number | null;
  token_prob: number;
  is_target_logit: boolean;
  run_idx: number;
  reverse_ctx_idx: number;
  [extra: string]: unknown;
}

export interface NeuronpediaLink {
  source: string;
  target: string;
  weight: number;
}

export interface NeuronpediaGraph {
  metadata: Record<string, unknown> & { slug: string; scan: string; prompt_tokens: string[]; prompt: string };
  qParams: Record<string, unknown>;
  nodes: NeuronpediaNode[];
  links: NeuronpediaLink[];
}

export interface PlantedStructure {
  target: string;
  /** The chain E_subject → A → M → C → target, which is the top path into the target. */
  chain: string[];
  /** The missing concept: top mediator of the target, with no embedding input. */
  mediator: string;
  errorNode: string;
  distractors: string[][];
}

export interface GraphOptions {
  schema?: IdSchema;
  seed?: number;
  slug?: string;
  nLayers?: number;
  /** Transcoder width per layer: feature indices are below it (it sets schema 0's layer stride). */
  nFeatures?: number;
  /** Noise feature nodes beside the planted ones. */
  noiseFeatures?: number;
  /** Noise in-links per noise node and per logit. */
  noiseFanIn?: number;
  /** Feature indices of the planted A, M and C (so a test can store SAE features for them). */
  plantedIndices?: [number, number, number];
  /** Emit schema_version (schema 0 files from older circuit-tracer versions have none). */
  writeSchemaVersion?: boolean;
}

export function cantorPair(layer: number, index: number): number {
  return ((layer + index) * (layer + index + 1)) / 2 + index;
}

export function globalFeatureId(schema: IdSchema, layer: number, index: number, nFeatures: number): number {
  return schema === 1 ? cantorPair(layer, index) : index + layer * 10 ** Math.ceil(Math.log10(nFeatures));
}

export const PROMPT = ["<bos>", "Fact", ":", " Kobe", " Bryant", "'s", " team", "'s", " rival", " is", " the"];
export const TOKEN_IDS = [2, 17_550, 236_787, 90_210, 63_000, 236_761, 2_431, 236_761, 22_877, 563, 506];

export interface Builder {
  nodes: NeuronpediaNode[];
  links: NeuronpediaLink[];
  feature(layer: number, index: number, ctx: number, influence: number, clerp?: string): string;
  error(layer: number, ctx: number, influence: number): string;
  link(source: string, target: string, weight: number): void;
}

export function builder(schema: IdSchema, nFeatures: number): Builder {
  const nodes: NeuronpediaNode[] = [];
  const links: NeuronpediaLink[] = [];
  const base = { token_prob: 0, is_target_logit: false, run_idx: 0, reverse_ctx_idx: 0 };
  return {
    nodes,
    links,
    feature(layer, index, ctx, influence, clerp = "") {
      const id = `${layer}_${index}_${ctx}`;
      nodes.push({
        node_id: id, feature: globalFeatureId(schema, layer, index, nFeatures), layer: String(layer), ctx_idx: ctx,
        feature_type: "cross layer transcoder", jsNodeId: `${layer}_${index}-0`, clerp, influence, activation: 1 + (index % 97), ...base,
      });
      return id;
    },
    error(layer, ctx, influence) {
      const id = `${layer}_-1_${ctx}`;
      nodes.push({
        node_id: id, feature: -1, layer: String(layer), ctx_idx: ctx, feature_type: "mlp reconstruction error",
        jsNodeId: `${layer}_-1-${ctx}`, clerp: "", influence, activation: null, ...base,
      });
      return id;
    },
    link(source, target, weight) {
      links.push({ source, target, weight });
    },
  };
}

/** A small graph with the planted circuit and `noiseFeatures` weak noise nodes. */
export function plantedGraph(options: GraphOptions = {}): { graph: NeuronpediaGraph; planted: PlantedStructure } {
  const schema = options.schema ?? 1;
  const nLayers = options.nLayers ?? 12;
  const nFeatures = options.nFeatures ?? 16_384;
  const random = seededRandom(options.seed ?? 17);
  const b = builder(schema, nFeatures);
  const last = PROMPT.length - 1;
  const subjectCtx = 4;
  const embeddings = PROMPT.map((_, ctx) => {
    const id = `E_${TOKEN_IDS[ctx]}_${ctx}`;
    b.nodes.push({
      node_id: id, feature: ctx, layer: "E", ctx_idx: ctx, feature_type: "embedding", jsNodeId: `E_${TOKEN_IDS[ctx]}-${ctx}`,
      clerp: "", influence: 0.05 + ctx / 100, activation: null, token_prob: 0, is_target_logit: false, run_idx: 0, reverse_ctx_idx: 0,
    });
    return id;
  });
  const logitLayer = nLayers + 1;
  const logits = [
    { token: 30_411, p: 0.61, label: "Output \" Celtics\" (p=0.610)" },
    { token: 12_345, p: 0.12, label: "Output \" Knicks\" (p=0.120)" },
  ].map(({ token, p, label }, i) => {
    const id = `${logitLayer}_${token}_${last}`;
    b.nodes.push({
      node_id: id, feature: token, layer: String(logitLayer), ctx_idx: last, feature_type: "logit", jsNodeId: `L_${token}-${last}`,
      clerp: label, influence: null, activation: null, token_prob: p, is_target_logit: i === 0, run_idx: 0, reverse_ctx_idx: 0,
    });
    return id;
  });
  const target = logits[0]!;
  const midLayer = Math.max(2, Math.floor(nLayers / 2));
  const [ia, im, ic] = options.plantedIndices ?? [4_101, 9_077, 2_024];
  const a = b.feature(1, ia, subjectCtx, 0.12, "Kobe Bryant");
  const m = b.feature(midLayer, im, last, 0.1, "Los Angeles Lakers");
  const c = b.feature(nLayers - 1, ic, last, 0.15, "say a rival team");
  const err = b.error(midLayer - 1, last, 0.3);
  const d1 = b.feature(2, 333, last, 0.35, "sports");
  const d2 = b.feature(nLayers - 2, 777, last, 0.33, "not basketball");
  const d3 = b.feature(3, 1_500, 6, 0.4);
  b.link(embeddings[subjectCtx]!, a, 10);
  b.link(embeddings[3]!, a, 1.5);
  b.link(a, m, 9);
  b.link(err, m, 2);
  b.link(m, c, 8);
  b.link(c, target, 10);
  b.link(err, target, 1.5);
  // Distractors: a weaker positive path, a negative one, a direct embedding → logit link.
  b.link(embeddings[last]!, d1, 4);
  b.link(d1, d3, 2);
  b.link(d3, target, 1);
  b.link(embeddings[8]!, d2, 3);
  b.link(d2, target, -2);
  b.link(embeddings[last]!, target, 0.8);
  b.link(c, logits[1]!, 2);
  b.link(d1, logits[1]!, 3);
  // Noise: weak links among noise nodes (layers 1..nLayers-1, lower layers feed higher, earlier
  // positions feed later ones) and into the logits; none into or out of the planted nodes, so their
  // paths and effects stay exactly the planted ones.
  const noise: Array<{ id: string; layer: number; ctx: number }> = [];
  for (let i = 0; i < (options.noiseFeatures ?? 24); i++) {
    const layer = 1 + Math.floor(random() * (nLayers - 1));
    const ctx = Math.floor(random() * PROMPT.length);
    const index = 10_000 + i;
    noise.push({ id: b.feature(layer, index % nFeatures, ctx, 0.5 + random() * 0.5), layer, ctx });
  }
  const fanIn = options.noiseFanIn ?? 3;
  const weak = () => (random() < 0.3 ? -1 : 1) * (0.05 + random() * 0.25);
  for (const node of noise) {
    const sources = noise.filter((s) => s.layer < node.layer && s.ctx <= node.ctx);
    for (let j = 0; j < fanIn; j++) {
      if (sources.length === 0 || random() < 0.3) b.link(embeddings[Math.floor(random() * (node.ctx + 1))]!, node.id, weak());
      else b.link(sources[Math.floor(random() * sources.length)]!.id, node.id, weak());
    }
  }
  for (const logit of logits) for (const node of noise.slice(0, fanIn * 2)) b.link(node.id, logit, weak());
  dedupeLinks(b.links);
  const planted: PlantedStructure = {
    target, chain: [embeddings[subjectCtx]!, a, m, c, target], mediator: m, errorNode: err,
    distractors: [[embeddings[last]!, d1, d3, target], [embeddings[8]!, d2, target], [embeddings[last]!, target]],
  };
  return { graph: wrap(options, schema, nLayers, b), planted };
}

/** Drops repeated (source, target) pairs, keeping the first: a stored graph has one link per pair. */
export function dedupeLinks(links: NeuronpediaLink[]): void {
  const seen = new Set<string>();
  let w = 0;
  for (const link of links) {
    const key = `${link.source}\u0000${link.target}`;
    if (seen.has(key)) continue;
    seen.add(key);
    links[w++] = link;
  }
  links.length = w;
}

export function wrap(options: GraphOptions, schema: IdSchema, nLayers: number, b: Builder): NeuronpediaGraph {
  const writeVersion = options.writeSchemaVersion ?? schema === 1;
  return {
    metadata: {
      slug: options.slug ?? `planted-kobe-schema${schema}-${options.seed ?? 17}`,
      scan: "monoscope-synthetic-1l",
      transcoder_list: [],
      prompt_tokens: PROMPT,
      prompt: PROMPT.join(""),
      node_threshold: 0.8,
      ...(writeVersion ? { schema_version: schema } : {}),
      info: {
        creator_name: "Monoscope test generator",
        creator_url: "https://github.com/decoderesearch/circuit-tracer",
        source_urls: [],
        generator: { name: "tests/helpers/graph-generator.ts", version: "1", url: "" },
        create_time_ms: 1_780_000_000_000,
      },
      generation_settings: { max_n_logits: 2, desired_logit_prob: 0.95, batch_size: 48, max_feature_nodes: 8192, n_layers: nLayers },
      pruning_settings: { node_threshold: 0.8, edge_threshold: 0.98 },
    },
    qParams: { pinnedIds: [], supernodes: [], linkType: "both", clickedId: "", sg_pos: "" },
    nodes: b.nodes,
    links: b.links,
  };
}

export type NodeKind = "FEATURE" | "ERROR" | "EMBEDDING" | "LOGIT";

/** The kind a node's feature_type names (every transcoder/attention variant is a FEATURE). */
export function kindOf(featureType: string): NodeKind {
  if (featureType === "embedding") return "EMBEDDING";
  if (featureType === "logit") return "LOGIT";
  if (featureType === "mlp reconstruction error") return "ERROR";
  return "FEATURE";
}

/** The in-memory shape graphPaths / graphMediators take, straight from the JSON. */
export function toGraphShape(graph: NeuronpediaGraph): { nodes: Array<{ nodeId: string; kind: NodeKind }>; links: NeuronpediaLink[] } {
  return { nodes: graph.nodes.map((node) => ({ nodeId: node.node_id, kind: kindOf(node.feature_type) })), links: graph.links };
}
