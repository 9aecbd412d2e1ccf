// Offline labels from token statistics (method token-pattern/v1), no LLM: a feature is
// named by the tokens it fires on most, weighted by activation and by how specific
// they are to it (tf-idf against how many features' contexts contain the token), plus
// the context words its examples share, e.g. "brigade, battalion, infantry (army)".
import { activeMask, readableTokens } from "./examples.ts";

export const TOKEN_PATTERN_METHOD = "token-pattern/v1";

const KEEP = 40;
const CONTEXT_RADIUS = 8;
const MAX_TOKENS = 3;
const MAX_CONTEXT = 2;

// Context words carry topic, not grammar: these never count as context.
const STOP = new Set(
  ("a an the and or but nor so yet of to in on at by for with from into onto over under about above below as is are was were be been being " +
    "am do does did doing have has had having it its it's this that these those there here then than too very can could will would shall should " +
    "may might must not no yes i me my we our you your he him his she her they them their what which who whom whose when where why how all any " +
    "both each few more most other some such only own same just also one two out up down off again further once s t don now get got like said " +
    "says new many much well even still back way used using use make made per via etc").split(" "),
);

interface Stats {
  idx: number;
  /** Activation-weighted frequency of each activating term. */
  act: Map<string, number>;
  /** In how many examples each context word appears near the peak. */
  ctx: Map<string, number>;
  examples: number;
}

/** Lowercased, trimmed, outer punctuation removed; punctuation-only tokens stay as they are. */
export function termOf(token: string): string {
  const t = token.trim().toLowerCase();
  const inner = t.replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, "");
  return inner || t;
}

const isWord = (t: string) => /^\p{L}[\p{L}'’-]*$/u.test(t) && t.length >= 3;

function top(m: Map<string, number>, n: number): Map<string, number> {
  return new Map([...m.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, n));
}

export class TokenPatternLabeler {
  /** How many features' examples contain each term anywhere: the specificity denominator. */
  private readonly df = new Map<string, number>();
  private readonly stats: Stats[] = [];
  /** termOf per distinct token: millions of tokens, a vocabulary of thousands. */
  private readonly terms = new Map<string, string>();

  private term(token: string): string {
    let t = this.terms.get(token);
    if (t === undefined) {
      t = termOf(token);
      if (this.terms.size < 1_000_000) this.terms.set(token, t);
    }
    return t;
  }

  /** Adds one feature's activation examples (any order). Features with nothing active are ignored. */
  add(idx: number, examples: readonly { tokens: string[]; values: number[] }[]): void {
    const act = new Map<string, number>();
    const ctx = new Map<string, number>();
    const seen = new Set<string>();
    const readable = examples.map((e) => readableTokens(e.tokens, e.values));
    const featureMax = Math.max(0, ...readable.flatMap((e) => e.values));
    if (!(featureMax > 0)) return;
    let used = 0;
    const texts = new Set<string>();
    for (const e of readable) {
      const key = e.tokens.join("");
      for (const t of e.tokens) seen.add(this.term(t));
      if (texts.has(key)) continue; // exporters repeat examples; count each context once
      texts.add(key);
      const mask = activeMask(e.values);
      if (!mask.some(Boolean)) continue;
      used++;
      const near = new Set<string>();
      e.tokens.forEach((tok, i) => {
        if (!mask[i]) return;
        const term = this.term(tok);
        // sqrt: the strongest examples lead, but a token that fires often and more weakly still counts.
        if (term) act.set(term, (act.get(term) ?? 0) + Math.sqrt(e.values[i] / featureMax));
        for (let j = Math.max(0, i - CONTEXT_RADIUS); j <= Math.min(e.tokens.length - 1, i + CONTEXT_RADIUS); j++) {
          if (mask[j]) continue;
          const w = this.term(e.tokens[j]);
          if (isWord(w) && !STOP.has(w)) near.add(w);
        }
      });
      for (const w of near) ctx.set(w, (ctx.get(w) ?? 0) + 1);
    }
    for (const t of seen) this.df.set(t, (this.df.get(t) ?? 0) + 1);
    if (used === 0 || act.size === 0) return;
    this.stats.push({ idx, act: top(act, KEEP), ctx: top(ctx, KEEP), examples: used });
  }

  /** Features that had something to label. */
  get count(): number {
    return this.stats.length;
  }

  /** BM25's idf: near 0 for a token in every feature's contexts, large for a rare one, never negative. */
  private idf(term: string): number {
    const n = this.stats.length;
    const df = Math.min(n, this.df.get(term) ?? 0);
    return Math.log(1 + (n - df + 0.5) / (df + 0.5));
  }

  labels(): { featureIndex: number; text: string }[] {
    return this.stats.map((s) => ({ featureIndex: s.idx, text: this.labelOf(s) })).filter((l) => l.text !== "");
  }

  private labelOf(s: Stats): string {
    const act = mergePlurals(s.act);
    const scored = [...act.entries()].map(([t, tf]) => [t, tf * this.idf(t)] as const).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    const best = scored[0]?.[1] ?? 0;
    const tokens = scored.filter(([t, v]) => v >= 0.25 * best && t.trim() !== "").slice(0, MAX_TOKENS).map(([t]) => t);
    if (tokens.length === 0) return "";
    const chosen = new Set(tokens.flatMap((t) => [t, `${t}s`, t.replace(/s$/, "")]));
    const minShare = Math.max(2, Math.ceil(0.25 * s.examples));
    const context = [...s.ctx.entries()]
      .filter(([w, n]) => n >= minShare && !chosen.has(w))
      .map(([w, n]) => [w, (n / s.examples) * this.idf(w)] as const)
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, MAX_CONTEXT)
      .map(([w]) => w);
    const shown = tokens.map((t) => (/^[\p{L}\p{N}][\p{L}\p{N}'’ .-]*$/u.test(t) ? t : JSON.stringify(t)));
    return context.length ? `${shown.join(", ")} (${context.join(", ")})` : shown.join(", ");
  }
}

/** "brigades" counts towards "brigade" when both fire. */
function mergePlurals(m: Map<string, number>): Map<string, number> {
  const out = new Map(m);
  for (const [t, v] of m) {
    if (t.length > 3 && t.endsWith("s") && out.has(t.slice(0, -1))) {
      out.set(t.slice(0, -1), out.get(t.slice(0, -1))! + v);
      out.delete(t);
    }
  }
  return out;
}
