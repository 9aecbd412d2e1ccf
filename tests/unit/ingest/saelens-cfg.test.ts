// cfg.json of every SAELens generation maps onto the same fields.
import { describe, expect, it } from "vitest";
import { parseSaelensCfg } from "../../../src/ingest/saelens/cfg.ts";

const parse = (o: unknown) => parseSaelensCfg(JSON.stringify(o), "cfg.json");

describe("parseSaelensCfg", () => {
  it("reads v6 configs with nested metadata", () => {
    const c = parse({
      architecture: "jumprelu",
      d_in: 2304,
      d_sae: 16384,
      dtype: "float32",
      apply_b_dec_to_input: false,
      metadata: { model_name: "gemma-2-2b", hook_name: "blocks.12.hook_resid_post", neuronpedia_id: "gemma-2-2b/12-gemmascope-res-16k", context_size: 1024 },
    });
    expect(c).toMatchObject({
      architecture: "jumprelu",
      dIn: 2304,
      dSae: 16384,
      applyBDecToInput: false,
      modelName: "gemma-2-2b",
      hookName: "blocks.12.hook_resid_post",
      layer: 12,
      neuronpediaId: "gemma-2-2b/12-gemmascope-res-16k",
      contextSize: 1024,
      k: null,
    });
  });

  it("reads v3-v5 configs with top-level metadata and topk in activation_fn_kwargs", () => {
    const c = parse({
      d_in: 768,
      d_sae: 24576,
      dtype: "torch.float32",
      model_name: "gpt2-small",
      hook_name: "blocks.8.hook_resid_pre",
      hook_layer: 8,
      activation_fn_str: "topk",
      activation_fn_kwargs: { k: 32 },
    });
    expect(c).toMatchObject({ architecture: "topk", k: 32, layer: 8, dtype: "float32", modelName: "gpt2-small", applyBDecToInput: true });
  });

  it("treats a missing architecture as standard and reads old training configs", () => {
    const c = parse({ d_in: 512, expansion_factor: 8, hook_point: "blocks.0.hook_resid_pre", hook_point_layer: 0, model_name: "tiny" });
    expect(c).toMatchObject({ architecture: "standard", dIn: 512, dSae: 4096, hookName: "blocks.0.hook_resid_pre", layer: 0 });
  });

  it("rounds a float k (batchtopk) and rejects wrong types with file: field: problem", () => {
    expect(parse({ architecture: "batchtopk", d_in: 4, d_sae: 8, k: 40.0 }).k).toBe(40);
    expect(() => parse({ d_in: "768", d_sae: 8 })).toThrow('cfg.json: d_in: "768" is not an integer >= 1');
    expect(() => parse({ d_in: 8, d_sae: 8, k: -1 })).toThrow("cfg.json: k: -1 is not a positive number");
    expect(() => parse({ d_in: 8, d_sae: 8, apply_b_dec_to_input: "yes" })).toThrow("cfg.json: apply_b_dec_to_input");
    expect(() => parseSaelensCfg("{not json", "cfg.json")).toThrow(/^cfg\.json: json: is not valid JSON/);
    expect(() => parse([1])).toThrow("cfg.json: json: is not a JSON object");
  });
});
