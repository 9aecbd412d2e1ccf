// Everything `activations build` accumulates while streaming a corpus: per feature the firing
// count (density), max, a log-spaced activation histogram, example candidates (candidates.ts),
// and the float64 sums behind the Pearson correlation of the feature's activation with every
// hook dimension over all corpus tokens. Typed arrays only, so a checkpoint is a few copies.
import type { SparseCodes } from "./batch-encoder.ts";
import { type CandidateArrays, candidateArrays, offerReservoir, offerTop, Rng } from "./candidates.ts";

export interface BuildParams {
  top: number;
  perWord: number;
  quantiles: number;
  perQuantile: number;
  /** Texts sampled per feature for the quantile bins. */
  reservoir: number;
  window: number;
  seed: number;
}

/** Histogram bins: log10(activation) from HIST_LO in steps of HIST_STEP (below: first bin, above: last). */
export const HIST_BINS = 40;
export const HIST_LO = -4;
export const HIST_STEP = 0.2;

export class BuildState {
  texts = 0;
  tokens = 0;
  /** Last corpus line read (for messages). */
  line = 0;
  /** Texts the source refused (over its limits), skipped. */
  skipped = 0;
  /** The scan reached the end of the corpus (or --max-tokens): only selection and writing remain. */
  complete = false;
  readonly fires: Float64Array;
  readonly maxAct: Float32Array;
  readonly hist: Float64Array;
  readonly seen: Float64Array;
  readonly sumA: Float64Array;
  readonly sumAA: Float64Array;
  readonly sumX: Float64Array;
  readonly sumXX: Float64Array;
  /** features x dIn. */
  readonly sumAX: Float64Array;
  readonly limited: CandidateArrays;
  readonly plain: CandidateArrays;
  readonly sample: CandidateArrays;
  readonly rng: Rng;
  /** Max-activating token keys, interned. */
  keys: string[] = [];
  private readonly keyIds = new Map<string, number>();
  private readonly best: Float32Array;
  private readonly bestPos: Int32Array;
  private readonly touched: Int32Array;

  constructor(
    readonly features: number,
    readonly dIn: number,
    readonly p: BuildParams,
  ) {
    this.fires = new Float64Array(features);
    this.maxAct = new Float32Array(features);
    this.hist = new Float64Array(features * HIST_BINS);
    this.seen = new Float64Array(features);
    this.sumA = new Float64Array(features);
    this.sumAA = new Float64Array(features);
    this.sumX = new Float64Array(dIn);
    this.sumXX = new Float64Array(dIn);
    this.sumAX = new Float64Array(features * dIn);
    this.limited = candidateArrays(features, p.top);
    this.plain = candidateArrays(features, p.top);
    this.sample = candidateArrays(features, p.reservoir);
    this.rng = new Rng(p.seed);
    this.best = new Float32Array(features);
    this.bestPos = new Int32Array(features);
    this.touched = new Int32Array(features);
  }

  keyId(token: string): number {
    const k = token.trim().toLowerCase();
    let id = this.keyIds.get(k);
    if (id === undefined) {
      id = this.keys.length;
      this.keys.push(k);
      this.keyIds.set(k, id);
    }
    return id;
  }

  restoreKeys(keys: string[]): void {
    this.keys = keys;
    this.keyIds.clear();
    keys.forEach((k, i) => this.keyIds.set(k, i));
  }

  /**
   * One text: its tokens, their hook vectors x (tokens x dIn, from row `row0` of the batch) and
   * the batch's sparse codes (rows row0 .. row0 + tokens.length).
   */
  observe(tokens: readonly string[], x: Float32Array, codes: SparseCodes, row0: number): void {
    const { dIn, sumAX, fires, maxAct, hist, sumA, sumAA, best, bestPos, touched } = this;
    const text = this.texts++;
    const len = tokens.length;
    this.tokens += len;
    let nTouched = 0;
    for (let t = 0; t < len; t++) {
      const xo = (row0 + t) * dIn;
      for (let d = 0; d < dIn; d++) {
        const v = x[xo + d]!;
        this.sumX[d]! += v;
        this.sumXX[d]! += v * v;
      }
      const r = row0 + t;
      for (let e = codes.rowStart[r]!, end = codes.rowStart[r + 1]!; e < end; e++) {
        const j = codes.feature[e]!;
        const a = codes.value[e]!;
        fires[j]!++;
        if (a > maxAct[j]!) maxAct[j] = a;
        const bin = Math.min(HIST_BINS - 1, Math.max(0, Math.floor((Math.log10(a) - HIST_LO) / HIST_STEP)));
        hist[j * HIST_BINS + bin]!++;
        sumA[j]! += a;
        sumAA[j]! += a * a;
        const o = j * dIn;
        for (let d = 0; d < dIn; d++) sumAX[o + d]! += a * x[xo + d]!;
        if (best[j] === 0) touched[nTouched++] = j;
        if (a > best[j]!) {
          best[j] = a;
          bestPos[j] = t;
        }
      }
    }
    const { top, perWord, reservoir } = this.p;
    for (let i = 0; i < nTouched; i++) {
      const j = touched[i]!;
      const c = { value: best[j]!, text, pos: bestPos[j]!, len, key: this.keyId(tokens[bestPos[j]!]!) };
      offerTop(this.limited, j, top, perWord, c);
      offerTop(this.plain, j, top, 0, c);
      this.seen[j]!++;
      offerReservoir(this.sample, j, reservoir, this.seen[j]!, this.rng.next, c);
      best[j] = 0;
    }
  }

  /** The arrays a checkpoint holds, by name (fixed order). */
  arrays(): [string, Float64Array | Float32Array | Int32Array][] {
    const out: [string, Float64Array | Float32Array | Int32Array][] = [
      ["fires", this.fires], ["maxAct", this.maxAct], ["hist", this.hist], ["seen", this.seen],
      ["sumA", this.sumA], ["sumAA", this.sumAA], ["sumX", this.sumX], ["sumXX", this.sumXX], ["sumAX", this.sumAX],
    ];
    for (const [name, c] of [["limited", this.limited], ["plain", this.plain], ["sample", this.sample]] as const) {
      for (const f of ["value", "text", "pos", "len", "key", "count"] as const) out.push([`${name}.${f}`, c[f]]);
    }
    return out;
  }

  /** Pearson r of feature j's activation with hook dimension d over all corpus tokens (null: no variance). */
  pearson(j: number, d: number): number | null {
    const n = this.tokens;
    const va = n * this.sumAA[j]! - this.sumA[j]! ** 2;
    const vx = n * this.sumXX[d]! - this.sumX[d]! ** 2;
    if (!(va > 0 && vx > 0)) return null;
    return (n * this.sumAX[j * this.dIn + d]! - this.sumA[j]! * this.sumX[d]!) / Math.sqrt(va * vx);
  }
}
