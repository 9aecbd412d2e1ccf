// The ONNX protobuf reader and output splicer on files written by the kernel's encoder and on
// hand-built messages: what it reads equals what was written, an added output is the only
// change, and weights stored outside the file are noticed.
import { describe, expect, it } from "vitest";
import { encodeModel, OnnxType } from "../../../src/kernel/onnx-proto.ts";
import { ElemType, elemTypeOf, indexGraph } from "../../../src/modules/text/onnx-graph.ts";
import { addGraphOutputs } from "../../../src/modules/text/onnx-graph-outputs.ts";
import { randomTinyGpt2, tinyGpt2Onnx } from "../../helpers/tiny-gpt2.ts";

const small = () =>
  encodeModel({
    name: "g",
    nodes: [
      { name: "shape", op: "Shape", inputs: ["x"], outputs: ["s"] },
      { name: "cast", op: "Cast", inputs: ["s"], outputs: ["c"], attrs: { to: { kind: "int", value: OnnxType.FLOAT } } },
      { name: "add", op: "Add", inputs: ["x", "w"], outputs: ["y"] },
    ],
    inputs: [{ name: "x", type: OnnxType.FLOAT16, dims: ["batch", 3] }],
    outputs: [{ name: "y", type: OnnxType.FLOAT16, dims: ["batch", 3] }],
    initializers: [{ name: "w", type: OnnxType.FLOAT16, dims: [3], raw: new Uint8Array(6) }],
  });

describe("onnx-graph", () => {
  it("reads nodes, inputs with symbolic and fixed dims, outputs and initializer types", () => {
    const g = indexGraph(small());
    expect(g.nodes.map((n) => [n.name, n.opType, n.inputs, n.outputs])).toEqual([
      ["shape", "Shape", ["x"], ["s"]],
      ["cast", "Cast", ["s"], ["c"]],
      ["add", "Add", ["x", "w"], ["y"]],
    ]);
    expect(g.inputs).toEqual([{ name: "x", elemType: ElemType.FLOAT16, dims: ["batch", 3] }]);
    expect(g.outputs.map((o) => o.name)).toEqual(["y"]);
    expect(g.initializers.get("w")).toBe(ElemType.FLOAT16);
    expect(g.externalData).toBe(false);
  });

  it("follows a tensor's element type back through its producers", () => {
    const g = indexGraph(small());
    expect(elemTypeOf(g, "s")).toBe(ElemType.INT64);
    expect(elemTypeOf(g, "c")).toBe(ElemType.FLOAT);
    expect(elemTypeOf(g, "y")).toBe(ElemType.FLOAT16);
    expect(elemTypeOf(g, "nowhere")).toBe(0);
    const tiny = indexGraph(tinyGpt2Onnx(randomTinyGpt2()));
    expect(elemTypeOf(tiny, "/transformer/h.1/Add_1_output_0")).toBe(ElemType.FLOAT);
  });

  it("appends outputs and leaves every other byte of the model as it was", () => {
    const bytes = tinyGpt2Onnx(randomTinyGpt2());
    const out = addGraphOutputs(bytes, [
      { name: "/transformer/Add_output_0", elemType: ElemType.FLOAT },
      { name: "/transformer/h.0/Add_1_output_0", elemType: ElemType.FLOAT },
    ]);
    const before = indexGraph(bytes);
    const after = indexGraph(out);
    expect(after.outputs.map((o) => [o.name, o.elemType])).toEqual([
      ...before.outputs.map((o) => [o.name, o.elemType]),
      ["/transformer/Add_output_0", ElemType.FLOAT],
      ["/transformer/h.0/Add_1_output_0", ElemType.FLOAT],
    ]);
    expect(after.nodes).toEqual(before.nodes);
    expect(after.initializers).toEqual(before.initializers);
    expect(addGraphOutputs(bytes, [])).toBe(bytes);
  });

  it("notices initializers kept in external data files", () => {
    // A ModelProto whose graph holds one TensorProto with data_location = EXTERNAL (field 14 = 1).
    const name = new TextEncoder().encode("w");
    const tensor = [0x08, 3, 0x10, 1, 0x42, name.length, ...name, 0x70, 1];
    const graph = [0x2a, tensor.length, ...tensor];
    const model = Uint8Array.from([0x08, 8, 0x3a, graph.length, ...graph]);
    expect(indexGraph(model).externalData).toBe(true);
    expect(() => indexGraph(Uint8Array.from([0x08, 8]))).toThrow(/no graph/);
    expect(() => indexGraph(Uint8Array.from([0x3a, 50, 1]))).toThrow(/runs past/);
  });
});
