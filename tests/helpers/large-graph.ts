// A large attribution graph for the benchmark (default 10,000 nodes, 1,000,000 links) in Neuronpedia
// graph JSON: one embedding per prompt token, an error node per (layer, position), transcoder
// features spread over the layers, a few logits at the last position. Links run from a lower layer
// to a higher one (a layered DAG, as circuit-tracer's are), with signed heavy-tailed weights
// (|w| log-normal), so a few links dominate each node's input as in real graphs.
import { seededRandom } from "../../src/util/random.ts";
import { builder, PROMPT, TOKEN_IDS, wrap, type IdSchema, type NeuronpediaGraph } from "./graph-generator.ts";

export interface LargeGraphOptions {
  nodes?: number;
  links?: number;
  nLayers?: number;
  logits?: number;
  schema?: IdSchema;
  seed?: number;
  slug?: string;
}

export function largeGraph(options: LargeGraphOptions = {}): NeuronpediaGraph {
  const totalNodes = options.nodes ?? 10_000;
  const totalLinks = options.links ?? 1_000_000;
  const nLayers = options.nLayers ?? 26;
  const schema = options.schema ?? 1;
  const nFeatures = 16_384;
  const random = seededRandom(options.seed ?? 7);
  const b = builder(schema, nFeatures);
  const last = PROMPT.length - 1;
  // Node order = layer order: embeddings, then per layer its errors and features, then the logits.
  // `layerOf[i]` is the DAG level (embeddings 0, layer L is L+1, logits nLayers+1).
  const layerOf: number[] = [];
  PROMPT.forEach((_, ctx) => {
    b.nodes.push({
      node_id: `E_${TOKEN_IDS[ctx]}_${ctx}`, feature: ctx, layer: "E", ctx_idx: ctx, feature_type: "embedding",
      jsNodeId: `E_${TOKEN_IDS[ctx]}-${ctx}`, clerp: "", influence: random() * 0.3, activation: null, token_prob: 0,
      is_target_logit: false, run_idx: 0, reverse_ctx_idx: 0,
    });
    layerOf.push(0);
  });
  const nLogits = options.logits ?? 5;
  const nErrors = nLayers * PROMPT.length;
  const nFeatureNodes = totalNodes - PROMPT.length - nErrors - nLogits;
  if (nFeatureNodes < nLayers) throw new Error(`largeGraph: ${totalNodes} nodes is too few for ${nLayers} layers`);
  for (let layer = 0; layer < nLayers; layer++) {
    for (let ctx = 0; ctx < PROMPT.length; ctx++) {
      b.error(layer, ctx, 0.2 + random() * 0.8);
      layerOf.push(layer + 1);
    }
    const count = Math.floor(nFeatureNodes / nLayers) + (layer < nFeatureNodes % nLayers ? 1 : 0);
    const used = new Set<number>();
    for (let j = 0; j < count; j++) {
      let index: number;
      do index = Math.floor(random() * nFeatures);
      while (used.has(index));
      used.add(index);
      b.feature(layer, index, Math.floor(random() * PROMPT.length), random(), j % 50 === 0 ? `feature ${layer}/${index}` : "");
      layerOf.push(layer + 1);
    }
  }
  for (let i = 0; i < nLogits; i++) {
    const token = 30_000 + i * 17;
    b.nodes.push({
      node_id: `${nLayers + 1}_${token}_${last}`, feature: token, layer: String(nLayers + 1), ctx_idx: last, feature_type: "logit",
      jsNodeId: `L_${token}-${last}`, clerp: `Output #${i}`, influence: null, activation: null, token_prob: 0.5 / (i + 1),
      is_target_logit: i === 0, run_idx: 0, reverse_ctx_idx: 0,
    });
    layerOf.push(nLayers + 1);
  }
  // prefix[i]: how many nodes sit in lower layers than node i (its possible sources).
  const n = b.nodes.length;
  const prefix = new Int32Array(n);
  for (let i = 1, p = 0; i < n; i++) {
    if (layerOf[i] !== layerOf[i - 1]) p = i;
    prefix[i] = layerOf[i] === 0 ? 0 : p;
  }
  const fanIn = new Int32Array(n);
  let left = totalLinks;
  // Fill fan-ins evenly, capped by the sources each node has, until the links are spent.
  for (let round = 0; left > 0 && round < 64; round++) {
    let open = 0;
    for (let i = 0; i < n; i++) if (fanIn[i]! < prefix[i]!) open++;
    if (open === 0) break;
    const share = Math.max(1, Math.floor(left / open));
    for (let i = 0; i < n && left > 0; i++) {
      const add = Math.min(share, prefix[i]! - fanIn[i]!, left);
      if (add > 0) {
        fanIn[i] += add;
        left -= add;
      }
    }
  }
  const ids = b.nodes.map((node) => node.node_id);
  const gaussian = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const chosen = new Set<number>();
  for (let t = 0; t < n; t++) {
    const want = fanIn[t]!;
    const pool = prefix[t]!;
    chosen.clear();
    while (chosen.size < want) chosen.add(Math.floor(random() * pool));
    for (const s of chosen) b.link(ids[s]!, ids[t]!, Math.fround((random() < 0.35 ? -1 : 1) * Math.exp(1.5 * gaussian())));
  }
  return wrap({ slug: options.slug ?? `large-${totalNodes}-${totalLinks}`, schema }, schema, nLayers, b);
}
