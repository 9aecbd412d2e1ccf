// Activation examples as the prompts see them: readable tokens, a window around the
// peak, <<highlights>> and activation lists, and a deterministic split into the
// examples an explainer sees and the held-out ones a scorer is tested on.

export interface Example {
  ordinal: number;
  kind: string;
  tokens: string[];
  values: number[];
  maxValue: number;
  text: string;
}

/** A context from other features where this feature is (presumed) silent. */
export interface Context {
  tokens: string[];
  /** Its own feature's values: only used to centre the window on that feature's peak. */
  values?: number[];
  text: string;
}

// GPT-2 byte-level BPE: bytes that are not printable map to U+0100 + n. Tokens
// stored raw (e.g. "âĢ" + "Ļ" for a right quote) are turned back into text.
const BYTE_OF = (() => {
  const m = new Map<string, number>();
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (printable(b)) m.set(String.fromCharCode(b), b);
    else m.set(String.fromCharCode(256 + n++), b);
  }
  return m;
})();

function tokenBytes(token: string): number[] | null {
  const out: number[] = [];
  for (const ch of token) {
    // Some exporters turn only "Ġ"/"Ċ" back into whitespace: take plain ASCII as itself.
    const b = BYTE_OF.get(ch) ?? (ch.charCodeAt(0) < 0x80 ? ch.charCodeAt(0) : undefined);
    if (b === undefined) return null;
    out.push(b);
  }
  return out;
}

const looksByteLevel = (t: string) => /[\u0100-\u0143]|[\u00c2-\u00f4][\u0080-\u0143]/.test(t);
const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Readable tokens: byte-level fragments are decoded, merging the tokens of one
 * character; a merged token takes the largest value. Already-decoded tokens pass through.
 */
export function readableTokens(tokens: string[], values: number[]): { tokens: string[]; values: number[] } {
  if (!tokens.some(looksByteLevel)) return { tokens: [...tokens], values: [...values] };
  const outT: string[] = [];
  const outV: number[] = [];
  let i = 0;
  while (i < tokens.length) {
    const first = looksByteLevel(tokens[i]) ? tokenBytes(tokens[i]) : null;
    if (first) {
      const acc = [...first];
      let v = values[i] ?? 0;
      let j = i + 1;
      let text = tryUtf8(acc);
      // A character split over up to four tokens: keep adding bytes until it decodes.
      while (text === null && j < tokens.length && j - i < 4) {
        const next = tokenBytes(tokens[j]);
        if (!next) break;
        acc.push(...next);
        v = Math.max(v, values[j] ?? 0);
        j++;
        text = tryUtf8(acc);
      }
      if (text !== null) {
        outT.push(text);
        outV.push(v);
        i = j;
        continue;
      }
      // An orphan fragment (the context was cut inside a character): nothing readable.
      outT.push("");
      outV.push(values[i] ?? 0);
      i++;
      continue;
    }
    outT.push(tokens[i]);
    outV.push(values[i] ?? 0);
    i++;
  }
  return { tokens: outT, values: outV };
}

function tryUtf8(bytes: number[]): string | null {
  try {
    return utf8.decode(Uint8Array.from(bytes));
  } catch {
    return null;
  }
}

/** The tokens around the peak: `before` tokens of left context and `after` of right. */
export function windowAroundPeak(ex: { tokens: string[]; values: number[] }, before = 24, after = 8): { tokens: string[]; values: number[] } {
  let peak = 0;
  for (let i = 1; i < ex.values.length; i++) if (ex.values[i] > ex.values[peak]) peak = i;
  const start = Math.max(0, peak - before);
  const end = Math.min(ex.tokens.length, peak + after + 1);
  return { tokens: ex.tokens.slice(start, end), values: ex.values.slice(start, end) };
}

/** Wraps runs of marked tokens in <<>>; leading whitespace stays outside the markers. */
export function highlight(tokens: string[], marked: (i: number) => boolean): string {
  let out = "";
  let i = 0;
  while (i < tokens.length) {
    if (!marked(i)) {
      out += tokens[i++];
      continue;
    }
    let run = "";
    let j = i;
    while (j < tokens.length && marked(j)) run += tokens[j++];
    const lead = /^\s*/.exec(run)![0];
    const body = run.slice(lead.length);
    out += body ? `${lead}<<${body}>>` : run;
    i = j;
  }
  return out;
}

export const HIGHLIGHT_FRACTION = 0.3;

/** Tokens above 0.3 x the example's own max count as activating (delphi's rule). */
export function activeMask(values: number[]): boolean[] {
  const max = Math.max(0, ...values);
  return values.map((v) => max > 0 && v > HIGHLIGHT_FRACTION * max);
}

/** ("tok" : n), ... with n = ceil(10 a / scaleMax) for the marked tokens. */
export function activationList(tokens: string[], values: number[], mask: boolean[], scaleMax: number): string {
  const parts: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    if (!mask[i]) continue;
    const n = Math.min(10, Math.max(1, Math.ceil((10 * values[i]) / (scaleMax || 1))));
    parts.push(`(${JSON.stringify(tokens[i].trim())} : ${n})`);
  }
  return parts.join(", ");
}

export interface ExampleSplit {
  /** Shown to the explainer. */
  train: Example[];
  /** Kept for scoring. */
  heldOut: Example[];
}

/**
 * Deterministic split of activating examples: of the top examples every third is
 * held out, of the quantile samples every second; duplicates (same text) count once.
 * With fewer than three examples the explainer sees them all and nothing is held out.
 */
export function splitExamples(all: Example[], maxTrainTop = 20, maxTrainQuantile = 10): ExampleSplit {
  const seen = new Set<string>();
  const active = all.filter((e) => {
    if (!(e.maxValue > 0) || seen.has(e.text)) return false;
    seen.add(e.text);
    return true;
  });
  const byValue = (a: Example, b: Example) => b.maxValue - a.maxValue || a.ordinal - b.ordinal;
  const top = active.filter((e) => e.kind !== "quantile").sort(byValue);
  const quantile = active.filter((e) => e.kind === "quantile").sort(byValue);
  if (active.length < 3) return { train: [...top, ...quantile], heldOut: [] };
  const train = [...top.filter((_, i) => i % 3 !== 2).slice(0, maxTrainTop), ...quantile.filter((_, i) => i % 2 !== 1).slice(0, maxTrainQuantile)];
  const heldOut = [...top.filter((_, i) => i % 3 === 2), ...quantile.filter((_, i) => i % 2 === 1)];
  return { train, heldOut };
}

/** Lowercased words of the most strongly activating tokens, to keep them out of "non-activating" contexts. */
export function peakWords(examples: Example[]): Set<string> {
  const words = new Set<string>();
  for (const e of examples) {
    const mask = activeMask(e.values);
    e.tokens.forEach((t, i) => {
      const w = t.trim().toLowerCase();
      if (mask[i] && w.length > 1) words.add(w);
    });
  }
  return words;
}

export { seededRandom } from "../../util/random.ts";

export function shuffle<T>(items: T[], random: () => number): T[] {
  const a = [...items];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}
