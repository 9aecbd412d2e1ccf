// Every feature of an SAE at its UMAP point, on a 2D canvas: drag to pan, wheel (or the
// buttons) to zoom, hover for the label, click to open. Positions are kept in flat typed
// arrays and points grouped by colour (one fillStyle per colour, not per point), and a drag
// moves the last full drawing as one bitmap each frame, redrawing every point when it pauses
// or ends, so panning 100,000 points keeps the frame rate.
import { useEffect, useMemo, useRef, useState } from "react";
import type { MapPoint } from "../api";

export type ColourBy = "density" | "kind";
const KIND_COLOURS: Record<string, string> = { SPLIT: "#8a2be2", STABLE: "#1b7a3a", VANISHED: "#d43030", NOVEL: "#e08000", INHERITED: "#305a9c" };

// Viridis stops: perceptually even and readable for colour-blind viewers.
const VIRIDIS = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
/** Steps of the density scale: few enough distinct colours to draw them group by group. */
const STEPS = 64;
function densityColour(d: number | null): string {
  if (d == null || d <= 0) return "#bbbbbb";
  const t = (Math.round(Math.max(0, Math.min(1, (Math.log10(d) + 5) / 4.5)) * STEPS) / STEPS) * (VIRIDIS.length - 1); // 1e-5 .. ~0.3
  const i = Math.min(VIRIDIS.length - 2, Math.floor(t)), f = t - i;
  const c = VIRIDIS[i].map((v, j) => Math.round(v + (VIRIDIS[i + 1][j] - v) * f));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

interface View {
  k: number;
  tx: number;
  ty: number;
}

export function FeatureMap(props: { points: MapPoint[]; complete?: boolean; colourBy: ColourBy; kinds?: Map<number, string>; highlight?: Set<number>; onOpen: (index: number) => void }) {
  const { points, colourBy, kinds, highlight, onOpen } = props;
  const canvas = useRef<HTMLCanvasElement>(null);
  const [view, setView] = useState<View>({ k: 1, tx: 0, ty: 0 });
  const [hover, setHover] = useState<{ p: MapPoint; x: number; y: number } | null>(null);
  const drag = useRef<{ x: number; y: number; moved: boolean; dx: number; dy: number; shot: HTMLCanvasElement | null; idle?: number } | null>(null);
  const placed = useMemo(() => points.filter((p) => p.x != null && p.y != null), [points]);
  const box = useMemo(() => {
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    for (const p of placed) {
      x0 = Math.min(x0, p.x!); x1 = Math.max(x1, p.x!); y0 = Math.min(y0, p.y!); y1 = Math.max(y1, p.y!);
    }
    return { x0, y0, w: x1 - x0 || 1, h: y1 - y0 || 1 };
  }, [placed]);

  // Unit positions (before view and canvas size) and the points of each colour, once per data set.
  const unit = useMemo(() => {
    const ux = new Float32Array(placed.length), uy = new Float32Array(placed.length);
    placed.forEach((p, i) => {
      ux[i] = (p.x! - box.x0) / box.w - 0.5;
      uy[i] = (p.y! - box.y0) / box.h - 0.5;
    });
    return { ux, uy };
  }, [placed, box]);
  const groups = useMemo(() => {
    const m = new Map<string, number[]>();
    placed.forEach((p, i) => {
      const c = colourBy === "kind" ? (KIND_COLOURS[kinds?.get(p.index) ?? ""] ?? "#bbbbbb") : densityColour(p.density);
      const g = m.get(c);
      if (g) g.push(i);
      else m.set(c, [i]);
    });
    return [...m].map(([colour, at]) => ({ colour, at: Int32Array.from(at) }));
  }, [placed, colourBy, kinds]);

  const toScreen = (p: MapPoint, w: number, h: number): [number, number] => {
    const s = Math.min(w, h) * 0.92;
    const bx = ((p.x! - box.x0) / box.w - 0.5) * s;
    const by = ((p.y! - box.y0) / box.h - 0.5) * s;
    return [w / 2 + view.tx + bx * view.k, h / 2 + view.ty + by * view.k];
  };

  useEffect(() => {
    const c = canvas.current;
    if (!c) return;
    const dpr = window.devicePixelRatio || 1;
    const w = c.clientWidth, h = c.clientHeight;
    c.width = w * dpr; c.height = h * dpr;
    const ctx = c.getContext("2d")!;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = "#fcfcfd";
    ctx.fillRect(0, 0, w, h);
    const r = Math.max(3, Math.min(7, 3 * Math.sqrt(view.k)));
    const dim = highlight && highlight.size > 0;
    const sk = Math.min(w, h) * 0.92 * view.k, cx = w / 2 + view.tx - r / 2, cy = h / 2 + view.ty - r / 2;
    const { ux, uy } = unit;
    ctx.globalAlpha = dim ? 0.25 : 0.85;
    for (const g of groups) {
      ctx.fillStyle = g.colour;
      ctx.beginPath();
      for (const i of g.at) {
        const x = cx + ux[i]! * sk, y = cy + uy[i]! * sk;
        if (x < -8 || y < -8 || x > w + 4 || y > h + 4) continue;
        ctx.rect(x, y, r, r);
      }
      ctx.fill();
    }
    if (dim) {
      ctx.globalAlpha = 1;
      for (const p of placed) {
        if (!highlight!.has(p.index)) continue;
        const [x, y] = toScreen(p, w, h);
        ctx.beginPath(); ctx.arc(x, y, 4.5, 0, Math.PI * 2);
        ctx.fillStyle = "#ff2d55"; ctx.fill(); ctx.strokeStyle = "#000"; ctx.lineWidth = 1; ctx.stroke();
      }
    }
    ctx.globalAlpha = 1;
    c.dataset.painted = String(placed.length);
    // Frames drawn, counted by the explorer benchmark's pan frame rate.
    c.dataset.draws = String(Number(c.dataset.draws ?? 0) + 1);
    if (props.complete) c.dataset.complete = "true";
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [placed, view, groups, unit, highlight, box, props.complete]);

  /** During a drag: the drawing made at its start, moved by the drag so far (one blit a frame). */
  const blit = () => {
    const c = canvas.current, d = drag.current;
    if (!c || !d?.shot) return;
    const ctx = c.getContext("2d")!;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = "#fcfcfd";
    ctx.fillRect(0, 0, c.width, c.height);
    const dpr = window.devicePixelRatio || 1;
    ctx.drawImage(d.shot, d.dx * dpr, d.dy * dpr);
    c.dataset.draws = String(Number(c.dataset.draws ?? 0) + 1);
  };
  /** Ends the bitmap phase: the view takes the drag's offset and every point is drawn again. */
  const settle = () => {
    const d = drag.current;
    if (!d || (d.dx === 0 && d.dy === 0)) return;
    const { dx, dy } = d;
    d.dx = 0;
    d.dy = 0;
    d.shot = null;
    setView((v) => ({ ...v, tx: v.tx + dx, ty: v.ty + dy }));
  };

  const nearest = (mx: number, my: number): MapPoint | null => {
    const c = canvas.current!;
    let best: MapPoint | null = null, bd = 64;
    for (const p of placed) {
      const [x, y] = toScreen(p, c.clientWidth, c.clientHeight);
      const d = (x - mx) ** 2 + (y - my) ** 2;
      if (d < bd) { bd = d; best = p; }
    }
    return best;
  };
  const local = (e: { clientX: number; clientY: number }) => {
    const r = canvas.current!.getBoundingClientRect();
    return [e.clientX - r.left, e.clientY - r.top] as const;
  };
  const zoom = (f: number, cx = 0, cy = 0) => setView((v) => ({ k: v.k * f, tx: cx + (v.tx - cx) * f, ty: cy + (v.ty - cy) * f }));

  return (
    <div className="map">
      <canvas
        ref={canvas}
        aria-label={`Map of ${placed.length} features at their UMAP points; use the feature list or search to reach one by keyboard`}
        role="img"
        onWheel={(e) => {
          const [mx, my] = local(e);
          const c = canvas.current!;
          zoom(e.deltaY < 0 ? 1.2 : 1 / 1.2, mx - c.clientWidth / 2, my - c.clientHeight / 2);
        }}
        onPointerDown={(e) => { drag.current = { x: e.clientX, y: e.clientY, moved: false, dx: 0, dy: 0, shot: null }; }}
        onPointerMove={(e) => {
          const d = drag.current;
          if (d && e.buttons) {
            const dx = e.clientX - d.x, dy = e.clientY - d.y;
            if (Math.abs(dx) + Math.abs(dy) > 2) d.moved = true;
            d.x = e.clientX; d.y = e.clientY;
            if (!d.shot) {
              const c = canvas.current!;
              d.shot = document.createElement("canvas");
              d.shot.width = c.width; d.shot.height = c.height;
              d.shot.getContext("2d")!.drawImage(c, 0, 0);
            }
            d.dx += dx; d.dy += dy;
            blit();
            // A pause in the drag draws every point at the new place (the next move blits that drawing).
            window.clearTimeout(d.idle);
            d.idle = window.setTimeout(settle, 150);
            return;
          }
          const [mx, my] = local(e);
          const p = nearest(mx, my);
          setHover(p ? { p, x: mx, y: my } : null);
        }}
        onPointerLeave={() => {
          setHover(null);
          // A drag that leaves the map ends there (its pointerup goes elsewhere).
          const d = drag.current;
          if (d) window.clearTimeout(d.idle);
          settle();
          drag.current = null;
        }}
        onPointerUp={(e) => {
          const d = drag.current;
          if (d) window.clearTimeout(d.idle);
          settle();
          drag.current = null;
          if (d?.moved) return;
          const [mx, my] = local(e);
          const p = nearest(mx, my);
          if (p) onOpen(p.index);
        }}
      />
      {hover && (
        <div className="tip" style={{ left: hover.x + 12, top: hover.y + 12 }}>
          #{hover.p.index} {hover.p.label ?? "(no label)"}
        </div>
      )}
      <div className="map-tools">
        <button type="button" onClick={() => zoom(1.5)} aria-label="Zoom in">+</button>
        <button type="button" onClick={() => zoom(1 / 1.5)} aria-label="Zoom out">−</button>
        <button type="button" onClick={() => setView({ k: 1, tx: 0, ty: 0 })}>Reset</button>
      </div>
    </div>
  );
}
