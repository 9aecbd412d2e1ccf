// uPlot charts: bar histograms and line/point series. uPlot draws to canvas, so each chart
// also carries a text summary for screen readers.
import { useEffect, useRef } from "react";
import uPlot from "uplot";

export interface Series {
  label: string;
  values: (number | null)[];
  color: string;
  bars?: boolean;
}

export function Chart({ title, x, series, logY, logX, xLabel, height = 180 }: { title: string; x: number[]; series: Series[]; logY?: boolean; logX?: boolean; xLabel?: string; height?: number }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = ref.current;
    if (!el || x.length === 0) return;
    const width = Math.max(240, el.clientWidth);
    const opts: uPlot.Options = {
      width,
      height,
      legend: { show: series.length > 1 },
      scales: { x: logX ? { time: false, distr: 3, log: 2 } : { time: false }, y: logY ? { distr: 3 } : {} },
      axes: [
        { label: xLabel, stroke: "#555", ...(logX ? { values: (_u: uPlot, vals: number[]) => vals.map((v) => (x.includes(v) ? String(v) : "")) } : {}) },
        { stroke: "#555", size: 60, ...(logY ? { values: (_u: uPlot, vals: number[]) => vals.map((v) => (v > 0 ? v.toExponential(0) : "")) } : {}) },
      ],
      series: [
        { label: xLabel ?? "x" },
        ...series.map((s) => ({
          label: s.label,
          stroke: s.color,
          fill: s.bars ? s.color + "99" : undefined,
          paths: s.bars ? uPlot.paths.bars!({ size: [0.9, 40] }) : undefined,
          points: { show: !s.bars },
          width: s.bars ? 0 : 2,
        })),
      ],
    };
    const plot = new uPlot(opts, [x, ...series.map((s) => s.values)] as uPlot.AlignedData, el);
    return () => plot.destroy();
  }, [x, series, logY, logX, xLabel, height]);
  const summary = `${title}: ${x.length} points` + series.map((s) => `; ${s.label} max ${Math.max(...s.values.map((v) => v ?? 0)).toPrecision(3)}`).join("");
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <div ref={ref} role="img" aria-label={summary} />
    </figure>
  );
}

export function Histogram({ title, values, heights, color = "#3b6fd4", xLabel }: { title: string; values: number[]; heights: number[]; color?: string; xLabel?: string }) {
  if (!values.length) return <p className="muted">{title}: none stored.</p>;
  return <Chart title={title} x={values} series={[{ label: "count", values: heights, color, bars: true }]} xLabel={xLabel} />;
}
