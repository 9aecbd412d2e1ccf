// Native float32 kernel over ONNX Runtime's CPU provider (shipped inside the onnxruntime-node
// npm package, nothing downloaded at run time). Graphs are built in memory (graphs.ts) with
// symbolic dimensions and their sessions cached, so a call costs one session.run.
//
// ONNX Runtime's node binding runs a session synchronously on the calling thread (after a
// setImmediate), so a call blocks the event loop for its duration: callers keep blocks small
// enough (tens of ms) for a server to stay responsive.
import { createRequire } from "node:module";
import type * as OrtTypes from "onnxruntime-node";
import { encodeModel, type GraphSpec } from "./onnx-proto.ts";
import { gemmGraph, topKDotGraph, topKInt8Graph } from "./graphs.ts";
import { type QuantizedRows, quantizeQueriesTransposed } from "./quantize.ts";
import { TopKAccumulator } from "./topk.ts";
import type { GemmOptions, Kernel, TopKResult } from "./types.ts";

type Ort = typeof OrtTypes;

/** Scores materialised per block (floats): 16M = 64 MB, large enough to run at full speed. */
const SCORE_BUDGET = 16 * 1024 * 1024;
const MAX_Q_BLOCK = 4096;

export function loadOrt(): Ort {
  const require = createRequire(import.meta.url);
  return require("onnxruntime-node") as Ort;
}

function checkLength(name: string, arr: Float32Array, expected: number): void {
  if (arr.length < expected) throw new RangeError(`${name} has ${arr.length} floats, expected at least ${expected}`);
}

export interface OnnxKernelOptions {
  threads: number;
  /** Floats of scores per block (tests shrink it to exercise the block merge). */
  scoreBudget?: number;
  maxQueryBlock?: number;
}

export async function createOnnxKernel(opts: OnnxKernelOptions): Promise<Kernel> {
  const ort = loadOrt();
  const scoreBudget = opts.scoreBudget ?? SCORE_BUDGET;
  const maxQueryBlock = opts.maxQueryBlock ?? MAX_Q_BLOCK;
  const sessions = new Map<string, Promise<OrtTypes.InferenceSession>>();
  const sessionOptions: OrtTypes.InferenceSession.SessionOptions = {
    intraOpNumThreads: opts.threads,
    interOpNumThreads: 1,
    executionMode: "sequential",
    graphOptimizationLevel: "all",
    // Spinning worker threads would burn the other core (PostgreSQL's) between calls.
    extra: { session: { intra_op: { allow_spinning: "0" } } },
  };

  const session = (graph: () => GraphSpec, key: string): Promise<OrtTypes.InferenceSession> => {
    let s = sessions.get(key);
    if (!s) {
      s = ort.InferenceSession.create(encodeModel(graph()), sessionOptions);
      sessions.set(key, s);
    }
    return s;
  };
  const f32 = (data: Float32Array, rows: number, cols: number) =>
    new ort.Tensor("float32", data.length === rows * cols ? data : data.subarray(0, rows * cols), [rows, cols]);

  async function gemm(a: Float32Array, b: Float32Array, m: number, n: number, k: number, o: GemmOptions = {}) {
    checkLength("A", a, m * k);
    checkLength("B", b, k * n);
    if (m === 0 || n === 0) return new Float32Array(m * n);
    if (k === 0) return new Float32Array(m * n);
    const tA = !!o.transA;
    const tB = !!o.transB;
    const s = await session(() => gemmGraph(tA, tB), `gemm_${tA}_${tB}`);
    const out = await s.run({ A: tA ? f32(a, k, m) : f32(a, m, k), B: tB ? f32(b, n, k) : f32(b, k, n) });
    return out.Y.data as Float32Array;
  }

  async function topKDot(q: Float32Array, qRows: number, m: Float32Array, mRows: number, d: number, k: number) {
    checkLength("Q", q, qRows * d);
    checkLength("M", m, mRows * d);
    const kEff = Math.max(0, Math.min(k, mRows));
    const acc = new TopKAccumulator(qRows, kEff);
    if (kEff === 0 || qRows === 0) return acc.result();
    const s = await session(topKDotGraph, "topk_dot");
    const qBlock = Math.min(qRows, maxQueryBlock);
    const mBlock = Math.min(mRows, Math.max(kEff, Math.floor(scoreBudget / qBlock)));
    // A single block needs no merge: its TopK output is already the answer.
    if (qBlock === qRows && mBlock === mRows) {
      const out = await s.run({ Q: f32(q, qRows, d), M: f32(m, mRows, d), K: kTensor(kEff) });
      return { values: out.V.data as Float32Array, indices: out.I32.data as Int32Array } satisfies TopKResult;
    }
    for (let q0 = 0; q0 < qRows; q0 += qBlock) {
      const qn = Math.min(qBlock, qRows - q0);
      const qView = new ort.Tensor("float32", q.subarray(q0 * d, (q0 + qn) * d), [qn, d]);
      for (let m0 = 0; m0 < mRows; m0 += mBlock) {
        const mn = Math.min(mBlock, mRows - m0);
        const kb = Math.min(kEff, mn);
        const out = await s.run({
          Q: qView,
          M: new ort.Tensor("float32", m.subarray(m0 * d, (m0 + mn) * d), [mn, d]),
          K: kTensor(kb),
        });
        const v = out.V.data as Float32Array;
        const ix = out.I32.data as Int32Array;
        for (let r = 0; r < qn; r++) acc.offerSorted(q0 + r, v, ix, r * kb, kb, m0);
      }
    }
    return acc.result();
  }

  async function topKDotInt8(q: Float32Array, qRows: number, m: QuantizedRows, k: number) {
    const { rows: mRows, d } = m;
    checkLength("Q", q, qRows * d);
    const kEff = Math.max(0, Math.min(k, mRows));
    const acc = new TopKAccumulator(qRows, kEff);
    if (kEff === 0 || qRows === 0) return acc.result();
    const s = await session(topKInt8Graph, "topk_int8");
    const qBlock = Math.min(qRows, maxQueryBlock);
    const mBlock = Math.min(mRows, Math.max(kEff, Math.floor(scoreBudget / qBlock)));
    const zero = new ort.Tensor("uint8", Uint8Array.of(128), []);
    for (let q0 = 0; q0 < qRows; q0 += qBlock) {
      const qn = Math.min(qBlock, qRows - q0);
      const { qt, scale } = quantizeQueriesTransposed(q.subarray(q0 * d, (q0 + qn) * d), qn, d);
      const qTensor = new ort.Tensor("int8", qt, [d, qn]);
      for (let m0 = 0; m0 < mRows; m0 += mBlock) {
        const mn = Math.min(mBlock, mRows - m0);
        const kb = Math.min(kEff, mn);
        const out = await s.run({
          C: new ort.Tensor("uint8", m.codes.subarray(m0 * d, (m0 + mn) * d), [mn, d]),
          Z: zero,
          QT: qTensor,
          RS: new ort.Tensor("float32", m.rowScale.subarray(m0, m0 + mn), [mn, 1]),
          K: kTensor(kb),
        });
        const v = out.V.data as Float32Array;
        const ix = out.I32.data as Int32Array;
        for (let r = 0; r < qn; r++) {
          const sc = scale[r];
          for (let t = 0; t < kb; t++) v[r * kb + t] *= sc;
          acc.offerSorted(q0 + r, v, ix, r * kb, kb, m0);
        }
      }
    }
    return acc.result();
  }

  const kTensor = (k: number) => new ort.Tensor("int64", BigInt64Array.of(BigInt(k)), [1]);
  // Build one session now so a runtime that cannot load fails here, not at the first query.
  await session(topKDotGraph, "topk_dot");

  return {
    backend: "onnxruntime",
    gemm,
    topKDot,
    topKDotInt8,
    async close() {
      const all = [...sessions.values()];
      sessions.clear();
      for (const s of all) await (await s).release();
    },
  };
}
