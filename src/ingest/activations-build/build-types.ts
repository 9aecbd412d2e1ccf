// The options, source shape and summary of `activations build` (activations-build.ts).
import type { Logger } from "../../logger.ts";
import type { ProgressReporter } from "../progress.ts";

/** What the build needs of an ActivationSource (src/modules/text/activation-source.ts). */
export interface BuildHook {
  modelName: string;
  hookName: string;
  dIn: number;
}
export interface BuildActivations {
  tokens: string[];
  vectors: Float32Array;
  dIn: number;
}
export interface BuildSource {
  readonly name: string;
  activate(text: string, hook: BuildHook): Promise<BuildActivations>;
  activateMany?(texts: readonly string[], hook: BuildHook): Promise<BuildActivations[]>;
}

export interface BuildOptions {
  saeId: string;
  corpus: string;
  source: BuildSource;
  hook: BuildHook;
  /** Where the checkpoint lives (the data dir's activations-build/). */
  checkpointDir: string;
  top?: number;
  quantiles?: number;
  maxTokens?: number | null;
  replace?: boolean;
  progress?: ProgressReporter;
  log: Logger;
  /** Seconds between checkpoints (default 30). */
  checkpointSeconds?: number;
}

export interface BuildSummary {
  saeId: string;
  outcome: "created" | "replaced" | "merged" | "skipped";
  source: string;
  texts: number;
  tokens: number;
  skipped: number;
  resumedAtText: number | null;
  features: number;
  examples: number;
  scanSeconds: number;
  gemmSeconds: number;
  seconds: number;
  tokensPerSecond: number;
}

