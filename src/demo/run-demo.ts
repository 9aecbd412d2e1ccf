// Runs the demo set-up steps against an open app: what `monoscope demo` does before serving.
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { App } from "../app.ts";
import { badInput } from "../errors.ts";
import { type ProgressReporter, silentProgress } from "../ingest/progress.ts";
import { DEFAULT_DEMO_DATA_DIR, demoSaeId, type DemoSae, type DemoStep } from "./demo.types.ts";
import { DEMO_STEPS } from "./steps.ts";

export interface DemoSetupOptions {
  dataDir?: string;
  /** Only these sizes (default: every SAE under <dataDir>/saes). */
  sizes?: number[];
  progress?: ProgressReporter;
  steps?: readonly DemoStep[];
}

export interface DemoSetupResult {
  saes: DemoSae[];
  steps: { name: string; summary: string; seconds: number }[];
}

export function findDemoSaes(dataDir: string, sizes?: number[]): DemoSae[] {
  const root = join(dataDir, "saes");
  if (!existsSync(root)) throw badInput(`${root}: not found: the demo data is missing (build it with \`npm run build:demo\`)`);
  const found = readdirSync(root)
    .filter((d) => /^\d+$/.test(d) && existsSync(join(root, d, "cfg.json")))
    .map((d) => ({ id: demoSaeId(Number(d)), dSae: Number(d), dir: join(root, d) }))
    .sort((a, b) => a.dSae - b.dSae);
  const chosen = sizes ? found.filter((s) => sizes.includes(s.dSae)) : found;
  const missing = (sizes ?? []).filter((n) => !found.some((s) => s.dSae === n));
  if (missing.length) throw badInput(`--sizes: no demo SAE of size ${missing.join(", ")} in ${root} (have ${found.map((s) => s.dSae).join(", ")})`);
  if (chosen.length === 0) throw badInput(`${root}: no SAE directories (build them with \`npm run build:demo\`)`);
  return chosen;
}

export async function runDemoSetup(app: App, opts: DemoSetupOptions = {}): Promise<DemoSetupResult> {
  const dataDir = opts.dataDir ?? DEFAULT_DEMO_DATA_DIR;
  const saes = findDemoSaes(dataDir, opts.sizes);
  const ctx = { services: app.services, log: app.log, dataDir, saes, progress: opts.progress ?? silentProgress };
  const steps: DemoSetupResult["steps"] = [];
  for (const step of opts.steps ?? DEMO_STEPS) {
    const t0 = performance.now();
    const summary = await step.run(ctx);
    const seconds = (performance.now() - t0) / 1000;
    app.log.info(`demo ${step.name}: ${summary} (${seconds.toFixed(1)} s)`);
    steps.push({ name: step.name, summary, seconds });
  }
  return { saes, steps };
}
