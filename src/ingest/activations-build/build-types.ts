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
  /** Several hooks of the model in one forward pass per batch: result[text][hook]. */
  activateHooks?(texts: readonly string[], hooks: readonly BuildHook[]): Promise<BuildActivations[][]>;
}

/** One SAE of a build, with the hook it reads. */
export interface BuildSae {
  saeId: string;
  hook: BuildHook;
}

export interface BuildOptions extends BuildCommon {
  saeId: string;
  hook: BuildHook;
}

/** Several SAEs of one model, read through one source: each batch goes through the model once for all their hooks. */
export interface BuildManyOptions extends BuildCommon {
  saes: readonly BuildSae[];
}

export interface BuildCommon {
  corpus: string;
  source: BuildSource;
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

