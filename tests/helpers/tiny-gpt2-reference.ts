// GPT-2's forward pass in float64, written from the architecture (HF GPT2Model, eval mode), for
// one unpadded sequence: the reference the ONNX source's hidden states are checked against. It
// reads the weights of a TinyGpt2 and nothing from src/.
import type { TinyGpt2 } from "./tiny-gpt2.ts";

/** Per layer L, each [seq][d]: TransformerLens's hook points for block L. */
export interface ReferenceStates {
  residPre: number[][][];
  residMid: number[][][];
  residPost: number[][][];
  attnOut: number[][][];
  mlpOut: number[][][];
  lnFinal: number[][];
}

function layerNorm(x: number[], w: Float32Array, b: Float32Array, eps: number): number[] {
  const n = x.length;
  const mean = x.reduce((s, v) => s + v, 0) / n;
  const variance = x.reduce((s, v) => s + (v - mean) ** 2, 0) / n;
  const sd = Math.sqrt(variance + eps);
  return x.map((v, i) => ((v - mean) / sd) * w[i]! + b[i]!);
}

/** y = x @ W + b with W [nx, nf] row-major (Conv1D). */
function conv1d(x: number[], w: Float32Array, b: Float32Array, nf: number): number[] {
  const y = Array.from(b, Number);
  for (let i = 0; i < x.length; i++) {
    const xi = x[i]!;
    for (let j = 0; j < nf; j++) y[j]! += xi * w[i * nf + j]!;
  }
  return y;
}

const geluNew = (x: number) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));

export function referenceForward(m: TinyGpt2, ids: readonly number[]): ReferenceStates {
  const d = m.dModel;
  const hd = d / m.nHead;
  const out: ReferenceStates = { residPre: [], residMid: [], residPost: [], attnOut: [], mlpOut: [], lnFinal: [] };
  let h = ids.map((id, p) => Array.from({ length: d }, (_, j) => m.wte[id * d + j]! + m.wpe[p * d + j]!));
  for (const blk of m.blocks) {
    out.residPre.push(h);
    const qkv = h.map((x) => conv1d(layerNorm(x, blk.ln1W, blk.ln1B, m.eps), blk.attnW, blk.attnB, 3 * d));
    const ctx = h.map(() => new Array<number>(d).fill(0));
    for (let head = 0; head < m.nHead; head++) {
      const o = head * hd;
      for (let i = 0; i < h.length; i++) {
        // Causal: position i attends to 0..i.
        const scores: number[] = [];
        for (let j = 0; j <= i; j++) {
          let s = 0;
          for (let t = 0; t < hd; t++) s += qkv[i]![o + t]! * qkv[j]![d + o + t]!;
          scores.push(s / Math.sqrt(hd));
        }
        const mx = Math.max(...scores);
        const e = scores.map((s) => Math.exp(s - mx));
        const z = e.reduce((a, v) => a + v, 0);
        for (let j = 0; j <= i; j++) for (let t = 0; t < hd; t++) ctx[i]![o + t]! += (e[j]! / z) * qkv[j]![2 * d + o + t]!;
      }
    }
    const attn = ctx.map((c) => conv1d(c, blk.attnProjW, blk.attnProjB, d));
    const mid = h.map((x, i) => x.map((v, j) => v + attn[i]![j]!));
    const mlp = mid.map((x) => conv1d(conv1d(layerNorm(x, blk.ln2W, blk.ln2B, m.eps), blk.fcW, blk.fcB, 4 * d).map(geluNew), blk.projW, blk.projB, d));
    h = mid.map((x, i) => x.map((v, j) => v + mlp[i]![j]!));
    out.attnOut.push(attn);
    out.residMid.push(mid);
    out.mlpOut.push(mlp);
    out.residPost.push(h);
  }
  out.lnFinal = h.map((x) => layerNorm(x, m.lnfW, m.lnfB, m.eps));
  return out;
}
