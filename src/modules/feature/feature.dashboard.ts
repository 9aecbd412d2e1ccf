// Reads the dashboard JSON stored in feature_dashboard (logits, histograms) into
// GraphQL shapes. Importers wrote it from SAEDashboard / Neuronpedia data, whose
// layouts differ, so several equivalent layouts are accepted; anything else reads as
// absent rather than failing the whole response.

export interface TokenValue {
  token: string;
  value: number;
}
export interface Histogram {
  /** Bar positions (bin centres or left edges, as imported). */
  values: number[];
  heights: number[];
}

const isNumArray = (v: unknown): v is number[] => Array.isArray(v) && v.every((x) => typeof x === "number");
const isStrArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === "string");

/** [{token, value}] | {tokens|str, values} | [[token, value]] → [{token, value}]. */
export function parseTokenValues(raw: unknown): TokenValue[] | null {
  if (raw == null) return null;
  if (Array.isArray(raw)) {
    const out: TokenValue[] = [];
    for (const item of raw) {
      if (Array.isArray(item) && typeof item[0] === "string" && typeof item[1] === "number") out.push({ token: item[0], value: item[1] });
      else if (item && typeof item === "object" && typeof (item as any).token === "string" && typeof (item as any).value === "number")
        out.push({ token: (item as any).token, value: (item as any).value });
      else return null;
    }
    return out;
  }
  if (typeof raw === "object") {
    const o = raw as Record<string, unknown>;
    const tokens = o.tokens ?? o.str ?? o.strs;
    const values = o.values ?? o.logits;
    if (isStrArray(tokens) && isNumArray(values) && tokens.length === values.length) {
      return tokens.map((token, i) => ({ token, value: values[i] }));
    }
  }
  return null;
}

/** {values|bar_values, heights|bar_heights} → Histogram. */
export function parseHistogram(raw: unknown): Histogram | null {
  if (raw == null || typeof raw !== "object" || Array.isArray(raw)) return null;
  const o = raw as Record<string, unknown>;
  const values = o.values ?? o.bar_values ?? o.x;
  const heights = o.heights ?? o.bar_heights ?? o.counts ?? o.y;
  if (isNumArray(values) && isNumArray(heights) && values.length === heights.length) return { values, heights };
  return null;
}
