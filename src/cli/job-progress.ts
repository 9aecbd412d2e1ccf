// Job progress on stderr: a cli-progress bar (items, failures, spend, ETA) on a
// terminal, a plain line every few seconds otherwise. Never on stdout.
import cliProgress from "cli-progress";
import { formatUsd } from "../modules/autointerp/autointerp.constants.ts";
import type { RunProgress } from "../modules/autointerp/index.ts";

export interface JobProgress {
  update(p: RunProgress): void;
  stop(): void;
}

export function createJobProgress(label: string, stream: NodeJS.WriteStream = process.stderr, intervalMs = 5000): JobProgress {
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        stream,
        format: `${label} [{bar}] {percentage}% | {value}/{total} | {failed} failed | {cost} | ETA {eta_formatted}`,
        hideCursor: true,
        clearOnComplete: false,
        fps: 5,
      },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      update(p) {
        const finished = p.done + p.failed;
        if (!started) {
          bar.start(p.total, finished, { failed: p.failed, cost: formatUsd(p.costUsd) });
          started = true;
        } else bar.update(finished, { failed: p.failed, cost: formatUsd(p.costUsd) });
      },
      stop: () => bar.stop(),
    };
  }
  let last = 0;
  let lastLine = "";
  return {
    update(p) {
      const now = Date.now();
      const line = `monoscope: ${label}: ${p.done + p.failed}/${p.total} (${p.failed} failed), ${formatUsd(p.costUsd)} so far\n`;
      lastLine = line;
      if (now - last < intervalMs) return;
      last = now;
      stream.write(line);
      lastLine = "";
    },
    stop() {
      if (lastLine) stream.write(lastLine);
    },
  };
}
