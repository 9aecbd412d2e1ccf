// The demo: the GloVe × WordNet SAE family shipped in data/demo/, set up by a list of
// idempotent steps (ingest first, then whatever other capabilities register in steps.ts).
import type { Services } from "../app.ts";
import type { Logger } from "../logger.ts";
import type { ProgressReporter } from "../ingest/progress.ts";
import { packagePath } from "../paths.ts";

export const DEMO_MODEL_ID = "glove-6b-100d";
export const DEMO_FAMILY_ID = "glove-wordnet";
export const demoSaeId = (dSae: number) => `${DEMO_FAMILY_ID}/${dSae}`;

/** data/demo/ in the package (built by `npm run build:demo`). */
export const DEFAULT_DEMO_DATA_DIR = packagePath("data", "demo");

export interface DemoSae {
  id: string;
  dSae: number;
  /** data/demo/saes/<d_sae>: SAELens directory plus activations.jsonl.gz. */
  dir: string;
}

/** What a step gets: the services it names (S), the demo SAEs and where progress goes. */
export interface DemoContext<S = Services> {
  services: S;
  log: Logger;
  dataDir: string;
  /** The demo SAEs being set up, smallest first. */
  saes: DemoSae[];
  progress: ProgressReporter;
}

/** What most steps read: their services and the demo SAEs' ids (tests pass just these). */
export type StepInput<S> = { services: S; saes: readonly { id: string }[] };

/**
 * One set-up step. Must be idempotent and cheap when its work is already done, because
 * `monoscope demo` runs every step on every start. Returns a one-line summary.
 */
export interface DemoStep<S = Services> {
  name: string;
  run(ctx: DemoContext<S>): Promise<string>;
}
