// Per-feature example candidates kept while streaming a corpus, in flat typed arrays (cheap to
// checkpoint). One candidate is one (feature, text): the text's max activation and where.
// Order (the demo build's, scripts/demo-dataset/contexts.ts): stronger first; ties go to the
// shorter text, then to the earlier one.
//
// - word-limited top list: the best `top` texts when at most `perWord` of them may share their
//   max-activating token (compared lower-cased, without its leading space). Keeping, per
//   arrival, the best `perWord` of each key within the best `top` is exact: anything dropped is
//   beaten by `top` kept candidates, and kept candidates only ever get better.
// - plain top list: the best `top` texts, for when fewer than `top` keys exist (the demo fills
//   the remainder in order; the m-th filler is within the first top overall).
// - reservoir: a uniform sample of all of the feature's texts (Algorithm R, seeded), from which
//   the quantile bins are drawn at the end.

export interface CandidateArrays {
  value: Float32Array;
  text: Int32Array;
  pos: Int32Array;
  len: Int32Array;
  key: Int32Array;
  count: Int32Array;
  /** A full list's weakest value (a cache, not checkpointed: 0 means "not known yet"). */
  floor: Float32Array;
}

export function candidateArrays(features: number, cap: number): CandidateArrays {
  const n = features * cap;
  return {
    value: new Float32Array(n),
    text: new Int32Array(n),
    pos: new Int32Array(n),
    len: new Int32Array(n),
    key: new Int32Array(n),
    count: new Int32Array(features),
    floor: new Float32Array(features),
  };
}

export interface Candidate {
  value: number;
  text: number;
  pos: number;
  len: number;
  key: number;
}

/** a before b in the examples' order. */
export function better(av: number, alen: number, atext: number, bv: number, blen: number, btext: number): boolean {
  return av > bv || (av === bv && (alen < blen || (alen === blen && atext < btext)));
}

export const compareCandidates = (a: Candidate, b: Candidate) =>
  better(a.value, a.len, a.text, b.value, b.len, b.text) ? -1 : better(b.value, b.len, b.text, a.value, a.len, a.text) ? 1 : 0;

function put(c: CandidateArrays, at: number, x: Candidate): void {
  c.value[at] = x.value;
  c.text[at] = x.text;
  c.pos[at] = x.pos;
  c.len[at] = x.len;
  c.key[at] = x.key;
}

/** Index (absolute) of the worst of the slots [from, to) whose key is `key`, or any key when key < 0. */
function worstSlot(c: CandidateArrays, from: number, to: number, key: number): number {
  let w = -1;
  for (let s = from; s < to; s++) {
    if (key >= 0 && c.key[s] !== key) continue;
    if (w < 0 || better(c.value[w]!, c.len[w]!, c.text[w]!, c.value[s]!, c.len[s]!, c.text[s]!)) w = s;
  }
  return w;
}

/** Offers x to feature j's word-limited top list (cap slots per feature); perWord <= 0: no limit. */
export function offerTop(c: CandidateArrays, j: number, cap: number, perWord: number, x: Candidate): void {
  const from = j * cap;
  const n = c.count[j]!;
  const to = from + n;
  // weaker than the weakest of a full list: it enters by neither rule
  if (n === cap && x.value < c.floor[j]!) return;
  if (perWord > 0) {
    let same = 0;
    for (let s = from; s < to; s++) if (c.key[s] === x.key) same++;
    if (same >= perWord) {
      const w = worstSlot(c, from, to, x.key);
      if (better(x.value, x.len, x.text, c.value[w]!, c.len[w]!, c.text[w]!)) {
        put(c, w, x);
        if (n === cap) c.floor[j] = c.value[worstSlot(c, from, to, -1)]!;
      }
      return;
    }
  }
  if (n < cap) {
    put(c, to, x);
    c.count[j] = n + 1;
    if (n + 1 === cap) c.floor[j] = c.value[worstSlot(c, from, to + 1, -1)]!;
    return;
  }
  const w = worstSlot(c, from, to, -1);
  if (better(x.value, x.len, x.text, c.value[w]!, c.len[w]!, c.text[w]!)) {
    put(c, w, x);
    c.floor[j] = c.value[worstSlot(c, from, to, -1)]!;
  }
}

/** Algorithm R: x is the seen-th (1-based) text of feature j; rand() in [0, 1). */
export function offerReservoir(c: CandidateArrays, j: number, cap: number, seen: number, rand: () => number, x: Candidate): void {
  const n = c.count[j]!;
  if (n < cap) {
    put(c, j * cap + n, x);
    c.count[j] = n + 1;
    return;
  }
  const r = Math.floor(rand() * seen);
  if (r < cap) put(c, j * cap + r, x);
}

/** Feature j's candidates, in the examples' order. */
export function sortedCandidates(c: CandidateArrays, j: number, cap: number): Candidate[] {
  const out: Candidate[] = [];
  for (let s = j * cap, e = s + c.count[j]!; s < e; s++) {
    out.push({ value: c.value[s]!, text: c.text[s]!, pos: c.pos[s]!, len: c.len[s]!, key: c.key[s]! });
  }
  return out.sort(compareCandidates);
}

/** mulberry32 with its state in view, so a checkpoint can carry it. */
export class Rng {
  constructor(public state: number) {
    this.state >>>= 0;
  }
  next = (): number => {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
