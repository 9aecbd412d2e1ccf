// The tiny ONNX graphs the kernel runs. Every dimension is symbolic, so one session per graph
// serves all sizes; ONNX Runtime's CPU provider executes Gemm through MLAS (AVX2/AVX-512 sgemm).
import { type GraphSpec, int, ints, OnnxType } from "./onnx-proto.ts";

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

/**
 * Approximate scores of int8-quantised rows against int8 queries, and their per-query top K:
 *   S[j, c] = rowScale[j] · Σ_p (codes[j, p] - 128) · q[p, c]
 * codes are uint8 with zero point 128 (the u8×s8 product is MLAS's fast VNNI path when the
 * large matrix is the A operand); queries arrive transposed (d × q). Output is K × q.
 */
export function topKInt8Graph(): GraphSpec {
  return {
    name: "topk_int8",
    inputs: [
      { name: "C", type: OnnxType.UINT8, dims: ["n", "d"] },
      { name: "Z", type: OnnxType.UINT8, dims: [] },
      { name: "QT", type: OnnxType.INT8, dims: ["d", "q"] },
      { name: "RS", type: F, dims: ["n", 1] },
      { name: "K", type: OnnxType.INT64, dims: [1] },
    ],
    outputs: [
      { name: "V", type: F, dims: ["q", "k"] },
      { name: "I32", type: OnnxType.INT32, dims: ["q", "k"] },
    ],
    nodes: [
      { op: "MatMulInteger", inputs: ["C", "QT", "Z"], outputs: ["Si"] },
      { op: "Cast", inputs: ["Si"], outputs: ["Sf"], attrs: { to: int(OnnxType.FLOAT) } },
      { op: "Mul", inputs: ["Sf", "RS"], outputs: ["S"] },
      { op: "Transpose", inputs: ["S"], outputs: ["ST"], attrs: { perm: ints([1, 0]) } },
      { op: "TopK", inputs: ["ST", "K"], outputs: ["V", "I"], attrs: { axis: int(1), largest: int(1), sorted: int(1) } },
      { op: "Cast", inputs: ["I"], outputs: ["I32"], attrs: { to: int(OnnxType.INT32) } },
    ],
  };
}
