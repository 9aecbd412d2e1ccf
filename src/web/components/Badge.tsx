const COLORS: Record<string, string> = { SPLIT: "#8a2be2", STABLE: "#1b7a3a", VANISHED: "#a32020", NOVEL: "#b35900", INHERITED: "#305a9c", LARGEST: "#555", SMALLEST: "#555" };

export function Badge({ kind }: { kind: string | null | undefined }) {
  if (!kind) return null;
  return (
    <span className="badge" style={{ backgroundColor: COLORS[kind] ?? "#555" }}>
      {kind}
    </span>
  );
}
