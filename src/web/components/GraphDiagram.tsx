// An attribution graph drawn as layers (rows, embeddings at the bottom, logits at the top) ×
// token positions (columns), in SVG: links coloured by sign and as wide as their |weight|
// relative to the largest shown, nodes shaped by kind. Nodes linked to a stored feature are SVG
// links to its page (focusable, named); the others carry a <title>. Highlighted node ids (the
// selected path) are drawn on top with their links emphasised.
import type { MouseEvent } from "react";
import { navigate, paths } from "../router";

export interface DiagramNode {
  nodeId: string;
  kind: string;
  layer: string;
  ctxIdx: number;
  label?: string | null;
  influence?: number | null;
  feature?: { index: number; sae: { id: string } } | null;
}

export interface DiagramLink {
  source: string;
  target: string;
  weight: number;
}

// Columns share about a page's width (short prompts get wide columns), never under 96 px.
const WIDTH = 1180;
const MIN_COL = 96;
const ROW = 34;
const PAD = 28;
export const POSITIVE = "#1f5fbf";
export const NEGATIVE = "#c2410c";
const KIND_FILL: Record<string, string> = { FEATURE: "#4b5563", ERROR: "#9ca3af", EMBEDDING: "#15803d", LOGIT: "#7c3aed" };

/** Rows bottom-up: E, then numeric layers ascending (the logit layer is the largest). */
function layerRank(layer: string): number {
  return layer === "E" ? -1 : Number(layer);
}

export function GraphDiagram({ nodes, links, tokens, highlight }: { nodes: DiagramNode[]; links: DiagramLink[]; tokens: string[]; highlight: string[] }) {
  const layers = [...new Set(nodes.map((n) => n.layer))].sort((a, b) => layerRank(a) - layerRank(b));
  const row = new Map(layers.map((l, i) => [l, layers.length - 1 - i]));
  const positions = Math.max(tokens.length, ...nodes.map((n) => n.ctxIdx + 1));
  const COL = Math.max(MIN_COL, Math.floor((WIDTH - 2 * PAD) / Math.max(1, positions)));
  // Nodes sharing a (layer, position) cell spread across the cell's width.
  const cells = new Map<string, DiagramNode[]>();
  for (const n of nodes) {
    const key = `${n.layer}|${n.ctxIdx}`;
    cells.set(key, [...(cells.get(key) ?? []), n]);
  }
  const at = new Map<string, { x: number; y: number }>();
  for (const members of cells.values()) {
    members.forEach((n, i) => {
      const slot = (i + 1) / (members.length + 1);
      at.set(n.nodeId, { x: PAD + n.ctxIdx * COL + slot * COL, y: PAD + row.get(n.layer)! * ROW + ROW / 2 });
    });
  }
  const width = PAD * 2 + positions * COL;
  const height = PAD * 2 + layers.length * ROW + 40;
  const maxW = Math.max(1e-12, ...links.map((l) => Math.abs(l.weight)));
  const onPath = new Set(highlight);
  const pathLinks = new Set(highlight.slice(1).map((id, i) => `${highlight[i]}>${id}`));
  const open = (e: MouseEvent, to: string) => {
    e.preventDefault();
    navigate(to);
  };
  const shape = (n: DiagramNode, p: { x: number; y: number }) => {
    const hot = onPath.has(n.nodeId);
    const common = { fill: KIND_FILL[n.kind] ?? "#4b5563", stroke: hot ? "#111827" : "#fff", strokeWidth: hot ? 2.5 : 1 };
    if (n.kind === "ERROR") return <rect x={p.x - 5} y={p.y - 5} width={10} height={10} {...common} />;
    if (n.kind === "EMBEDDING" || n.kind === "LOGIT") return <polygon points={`${p.x},${p.y - 7} ${p.x + 7},${p.y} ${p.x},${p.y + 7} ${p.x - 7},${p.y}`} {...common} />;
    return <circle cx={p.x} cy={p.y} r={hot ? 7 : 5.5} {...common} />;
  };
  const name = (n: DiagramNode) => `${n.nodeId} (${n.kind.toLowerCase()}${n.label ? `: ${n.label}` : ""}${n.influence != null ? `, influence ${n.influence.toFixed(3)}` : ""})`;
  return (
    <div className="graph-diagram">
      <svg width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="group" aria-label={`Attribution graph: ${nodes.length} nodes, ${links.length} links`}>
        {layers.map((l) => (
          <text key={l} x={4} y={PAD + row.get(l)! * ROW + ROW / 2 + 4} fontSize={11} fill="#374151">{l}</text>
        ))}
        {Array.from({ length: positions }, (_, c) => (
          <text key={c} x={PAD + c * COL + COL / 2} y={height - 14} fontSize={11} fill="#374151" textAnchor="middle">{tokens[c] ?? `#${c}`}</text>
        ))}
        <g aria-hidden="true">
          {links.map((l) => {
            const a = at.get(l.source);
            const b = at.get(l.target);
            if (!a || !b) return null;
            const hot = pathLinks.has(`${l.source}>${l.target}`);
            return (
              <line key={`${l.source}>${l.target}`} x1={a.x} y1={a.y} x2={b.x} y2={b.y} stroke={l.weight >= 0 ? POSITIVE : NEGATIVE}
                strokeWidth={hot ? 4 : 0.4 + 3.2 * (Math.abs(l.weight) / maxW)} strokeOpacity={hot ? 0.95 : highlight.length ? 0.18 : 0.45} />
            );
          })}
        </g>
        {nodes.map((n) => {
          const p = at.get(n.nodeId)!;
          if (n.feature) {
            const href = paths.feature(n.feature.sae.id, n.feature.index);
            return (
              <a key={n.nodeId} href={href} onClick={(e) => open(e, href)} aria-label={`${name(n)}: open feature ${n.feature.sae.id} #${n.feature.index}`} data-node={n.nodeId}>
                {shape(n, p)}
              </a>
            );
          }
          return (
            <g key={n.nodeId} data-node={n.nodeId}>
              <title>{name(n)}</title>
              {shape(n, p)}
            </g>
          );
        })}
      </svg>
    </div>
  );
}
