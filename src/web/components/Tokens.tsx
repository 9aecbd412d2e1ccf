// One activation example: each token shaded by its activation relative to the feature's
// maximum, the value in its title (hover), the strongest token outlined.
export interface Example {
  tokens: string[];
  values: number[];
  maxValue: number;
  maxTokenIndex: number;
}

export function Tokens({ ex, scale }: { ex: Example; scale: number }) {
  const s = scale > 0 ? scale : 1;
  return (
    <p className="tokens">
      {ex.tokens.map((t, i) => {
        const v = ex.values[i] ?? 0;
        const a = Math.max(0, Math.min(1, v / s));
        return (
          <span
            key={i}
            className={i === ex.maxTokenIndex ? "tok max" : "tok"}
            style={{ backgroundColor: a > 0 ? `rgba(255, 120, 0, ${(0.1 + 0.8 * a).toFixed(2)})` : undefined }}
            title={`${JSON.stringify(t)}: ${v.toPrecision(3)}`}
            data-value={v}
          >
            {t.replace(/\n/g, "⏎")}
          </span>
        );
      })}
    </p>
  );
}
