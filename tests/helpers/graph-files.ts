// A small hand-made attribution graph in circuit-tracer's format, in either id schema, with the
// awkward corners a round trip must keep: an integer layer, a null and a missing influence, a
// link with an extra field, extra metadata and top-level keys.
import { cantorPair } from "../../src/modules/graph/graph-ids.ts";

export interface SmallGraphOptions {
  slug: string;
  schema: 0 | 1;
  scan: string;
}

export function smallGraph(o: SmallGraphOptions): any {
  const fid = (layer: number, index: number) => (o.schema === 1 ? cantorPair(layer, index) : index + layer * 100);
  const base = (id: string, feature: number | null, layer: string | number, ctx: number, type: string) => ({
    node_id: id,
    feature,
    layer,
    ctx_idx: ctx,
    feature_type: type,
    token_prob: 0,
    is_target_logit: false,
    run_idx: 0,
    reverse_ctx_idx: 0,
    jsNodeId: id.replace(/_(\d+)$/, "-$1"),
    clerp: "",
  });
  const nodes = [
    { ...base("E_10_0", 0, "E", 0, "embedding"), influence: 0.1, activation: null },
    { ...base("0_3_1", fid(0, 3), "0", 1, "cross layer transcoder"), influence: 0.25, activation: 3.5 },
    { ...base("E_11_1", 1, "E", 1, "embedding"), influence: 0.2, activation: null },
    { ...base("0_-1_1", -1, "0", 1, "mlp reconstruction error"), influence: 0.45, activation: null },
    { ...base("E_12_2", 2, "E", 2, "embedding"), influence: 0.3, activation: null },
    { ...base("1_7_2", fid(1, 7), "1", 2, "cross layer transcoder"), influence: 0.35, activation: 1.25 },
    // An integer layer, a null influence and no activation at all.
    { ...base("2_5_2", fid(2, 5), 2, 2, "cross layer transcoder"), clerp: "unlinked layer-2 feature", influence: null },
    { ...base("3_99_2", 99, "3", 2, "logit"), token_prob: 0.5, is_target_logit: true, clerp: 'Output " x" (p=0.500)', influence: null, activation: null },
  ];
  const links = [
    { source: "E_10_0", target: "0_3_1", weight: 2.5 },
    { source: "E_11_1", target: "0_3_1", weight: -1.5 },
    { source: "0_3_1", target: "1_7_2", weight: 4 },
    { source: "0_-1_1", target: "1_7_2", weight: -0.5 },
    { source: "1_7_2", target: "2_5_2", weight: 3.25, note: "kept verbatim" },
    { source: "2_5_2", target: "3_99_2", weight: 1.75 },
    { source: "E_12_2", target: "3_99_2", weight: 0.125 },
  ];
  return {
    metadata: {
      slug: o.slug,
      scan: o.scan,
      prompt_tokens: ["<bos>", " a", " b"],
      prompt: "<bos> a b",
      schema_version: o.schema,
      node_threshold: 0.8,
      info: { creator_name: "tests", generator: { name: "graph-files.ts", version: "1" } },
      custom: { a: [1, null, "x"] },
    },
    qParams: { pinnedIds: ["0_3_1"], supernodes: [["group", "0_3_1", "1_7_2"]], linkType: "both", clickedId: "", sg_pos: "" },
    nodes,
    links,
    qk_only_nodes: {},
  };
}
