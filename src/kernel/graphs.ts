// The tiny ONNX graphs the kernel runs. Every dimension is symbolic, so one session per graph
// serves all sizes; ONNX Runtime's CPU provider executes Gemm through MLAS (AVX2/AVX-512 sgemm).
import { type GraphSpec, int, OnnxType } from "./onnx-proto.ts";

const F = OnnxType.FLOAT;

/** Y = op(A)·op(B). */
export function gemmGraph(transA: boolean, transB: boolean): GraphSpec {
  return {
    name: `gemm_${transA ? "t" : "n"}${transB ? "t" : "n"}`,
    inputs: [
      { name: "A", type: F, dims: ["a0", "a1"] },
      { name: "B", type: F, dims: ["b0", "b1"] },
    ],
    outputs: [{ name: "Y", type: F, dims: ["m", "n"] }],
    nodes: [
      {
        op: "Gemm",
        inputs: ["A", "B"],
        outputs: ["Y"],
        attrs: { transA: int(transA ? 1 : 0), transB: int(transB ? 1 : 0) },
      },
    ],
  };
}

/**
 * Scores S = Q·Mᵀ and their per-row top K (K is an input, shape [1]), best first.
 * Indices are cast to int32 inside the graph to skip a BigInt conversion in JavaScript.
 */
export function topKDotGraph(): GraphSpec {
  return {
    name: "topk_dot",
    inputs: [
      { name: "Q", type: F, dims: ["q", "d"] },
      { name: "M", type: F, dims: ["n", "d"] },
      { name: "K", type: OnnxType.INT64, dims: [1] },
    ],
    outputs: [
      { name: "V", type: F, dims: ["q", "k"] },
      { name: "I32", type: OnnxType.INT32, dims: ["q", "k"] },
    ],
    nodes: [
      { op: "Gemm", inputs: ["Q", "M"], outputs: ["S"], attrs: { transB: int(1) } },
      { op: "TopK", inputs: ["S", "K"], outputs: ["V", "I"], attrs: { axis: int(1), largest: int(1), sorted: int(1) } },
      { op: "Cast", inputs: ["I"], outputs: ["I32"], attrs: { to: int(OnnxType.INT32) } },
    ],
  };
}
