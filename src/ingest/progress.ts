// Ingest progress on stderr: a cli-progress bar (rows, rate, ETA) on a terminal,
// a plain line every few seconds otherwise (logs, CI). Never on stdout.
import cliProgress from "cli-progress";

export interface ProgressCounts {
  features: number;
  activations: number;
  explanations: number;
}

export interface ProgressReporter {
  /**
   * total: features expected (null when unknown, e.g. an activation file). unit: count only
   * counts.features, in these units (a post-ingest step), instead of rows of every kind.
   */
  start(label: string, total: number | null, unit?: string): void;
  update(counts: ProgressCounts): void;
  stop(): void;
}

export const silentProgress: ProgressReporter = { start() {}, update() {}, stop() {} };

const rows = (c: ProgressCounts) => c.features + c.activations + c.explanations;

export function createProgress(stream: NodeJS.WriteStream = process.stderr, intervalMs = 5000): ProgressReporter {
  return stream.isTTY ? barProgress(stream) : lineProgress(stream, intervalMs);
}

function barProgress(stream: NodeJS.WriteStream): ProgressReporter {
  let bar: cliProgress.SingleBar | null = null;
  let t0 = 0;
  let hasTotal = false;
  return {
    start(label, total, unit) {
      t0 = Date.now();
      hasTotal = total !== null && total > 0;
      bar = new cliProgress.SingleBar(
        {
          stream,
          format: unit
            ? `${label} [{bar}] {percentage}% | {value}/{total} ${unit} | ETA {eta_formatted}`
            : hasTotal
            ? `${label} [{bar}] {percentage}% | {value}/{total} features | {activations} examples | {rate} rows/s | ETA {eta_formatted}`
            : `${label} | {value} features | {activations} examples | {rate} rows/s | {duration_formatted}`,
          hideCursor: true,
          clearOnComplete: false,
          fps: 5,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(hasTotal ? total! : 0, 0, { activations: 0, rate: 0 });
    },
    update(c) {
      const s = (Date.now() - t0) / 1000;
      bar?.update(c.features, { activations: c.activations, rate: s > 0 ? Math.round(rows(c) / s) : 0 });
    },
    stop() {
      bar?.stop();
      bar = null;
    },
  };
}

function lineProgress(stream: NodeJS.WriteStream, intervalMs: number): ProgressReporter {
  let label = "";
  let unit: string | undefined;
  let total: number | null = null;
  let t0 = 0;
  let last = 0;
  return {
    start(l, t, u) {
      label = l;
      unit = u;
      total = t;
      t0 = last = Date.now();
    },
    update(c) {
      const now = Date.now();
      if (now - last < intervalMs) return;
      last = now;
      const s = (now - t0) / 1000;
      const rate = Math.round(rows(c) / s);
      const of = total ? `/${total}` : "";
      const eta = total && c.features > 0 && c.features < total ? `, ETA ${Math.round((s * (total - c.features)) / c.features)}s` : "";
      if (unit) return void stream.write(`monoscope: ${label}: ${c.features}${of} ${unit}${eta}\n`);
      stream.write(`monoscope: ${label}: ${c.features}${of} features, ${c.activations} examples, ${rate} rows/s${eta}\n`);
    },
    stop() {},
  };
}
