// The inputs the onnx source fills for a right-padded batch, run through a real ONNX Runtime
// session of a small graph with a cache input (as optimum's text-generation-with-past exports
// have): the past is empty, the padding is masked, and an input it cannot fill is named.
import { createRequire } from "node:module";
import type * as OrtTypes from "onnxruntime-node";
import { describe, expect, it } from "vitest";
import { encodeModel, int, OnnxType } from "../../../src/kernel/onnx-proto.ts";
import { indexGraph } from "../../../src/modules/text/onnx-graph.ts";
import { buildFeeds } from "../../../src/modules/text/onnx-feeds.ts";
import { parseModelConfig } from "../../../src/modules/text/onnx-model-dir.ts";

const ort = createRequire(import.meta.url)("onnxruntime-node") as typeof OrtTypes;
const ctx = { padId: 9, config: parseModelConfig({ n_layer: 1, n_embd: 6 }), file: "model.onnx" };
const batch = [
  { ids: [5, 6, 7], tokens: ["a", "b", "c"] },
  { ids: [8], tokens: ["d"] },
];

function graph(extraInput?: string) {
  return encodeModel({
    name: "g",
    nodes: [
      { op: "Shape", inputs: ["past_key_values.0.key"], outputs: ["past_shape"] },
      { op: "Cast", inputs: ["input_ids"], outputs: ["ids_f"], attrs: { to: int(OnnxType.FLOAT) } },
      { op: "Mul", inputs: ["attention_mask", "position_ids"], outputs: ["masked_pos"] },
    ],
    inputs: [
      { name: "input_ids", type: OnnxType.INT64, dims: ["batch_size", "sequence_length"] },
      { name: "attention_mask", type: OnnxType.INT64, dims: ["batch_size", "total_sequence_length"] },
      { name: "position_ids", type: OnnxType.INT64, dims: ["batch_size", "sequence_length"] },
      { name: "past_key_values.0.key", type: OnnxType.FLOAT, dims: ["batch_size", 2, "past_sequence_length", 3] },
      ...(extraInput ? [{ name: extraInput, type: OnnxType.INT64, dims: [1] }] : []),
    ],
    outputs: [
      { name: "past_shape", type: OnnxType.INT64, dims: [4] },
      { name: "ids_f", type: OnnxType.FLOAT, dims: ["batch_size", "sequence_length"] },
      { name: "masked_pos", type: OnnxType.INT64, dims: ["batch_size", "sequence_length"] },
    ],
  });
}

describe("onnx feeds", () => {
  it("fills ids with right padding, the mask, positions and an empty past that ONNX Runtime accepts", async () => {
    const bytes = graph();
    const feeds = buildFeeds(ort, indexGraph(bytes), batch, ctx);
    const session = await ort.InferenceSession.create(bytes);
    try {
      const out = await session.run(feeds);
      expect(Array.from(out.past_shape!.data as BigInt64Array, Number)).toEqual([2, 2, 0, 3]);
      expect(Array.from(out.ids_f!.data as Float32Array)).toEqual([5, 6, 7, 8, 9, 9]);
      expect(Array.from(out.masked_pos!.data as BigInt64Array, Number)).toEqual([0, 1, 2, 0, 0, 0]);
    } finally {
      await session.release();
    }
  });

  it("names an input it does not know how to fill", () => {
    expect(() => buildFeeds(ort, indexGraph(graph("pixel_values")), batch, ctx)).toThrow(/model.onnx: graph input "pixel_values" is not one the source knows how to fill/);
  });
});
