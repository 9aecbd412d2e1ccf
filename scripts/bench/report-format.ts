// Number and Markdown table formatting for BENCHMARKS.md.
export function fmt(x: unknown): string {
  if (typeof x === "boolean") return x ? "yes" : "no";
  if (typeof x !== "number") return x === null || x === undefined ? "" : String(x);
  if (!Number.isFinite(x)) return "n/a";
  const a = Math.abs(x);
  if (Number.isInteger(x)) return x.toLocaleString("en-US");
  if (a >= 1000) return Math.round(x).toLocaleString("en-US");
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  if (a >= 0.01 || a === 0) return String(Number(x.toPrecision(3)));
  return x.toExponential(2);
}

export const esc = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");
export const kv = (o?: Record<string, unknown>) =>
  o ? Object.entries(o).filter(([, v]) => v !== null && v !== undefined && v !== "").map(([k, v]) => `${k} ${fmt(v)}`).join(", ") : "";

export function table(head: string[], rows: string[][]): string {
  return [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`, ...rows.map((r) => `| ${r.map(esc).join(" | ")} |`)].join("\n");
}
