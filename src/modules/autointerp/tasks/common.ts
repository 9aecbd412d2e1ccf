// What the job tasks share: the services and client they use, and turning an
// example row into a prompt example.
import type { Logger } from "../../../logger.ts";
import type { ExampleRow, ExamplesService } from "../../explanation/examples.service.ts";
import type { ExplanationService } from "../../explanation/explanation.service.ts";
import type { Spend } from "../../job/job.service.ts";
import type { Example } from "../examples.ts";
import { LlmError, type LlmClient } from "../llm-client.ts";

export interface TaskDeps {
  llm: LlmClient;
  explanations: ExplanationService;
  examples: ExamplesService;
  log: Logger;
}

export const toExample = (r: ExampleRow): Example => ({
  ordinal: r.ordinal,
  kind: r.kind,
  tokens: r.tokens,
  values: r.values,
  maxValue: r.maxValue,
  text: r.text,
});

export const noSpend = (): Spend => ({ inputTokens: 0, outputTokens: 0, costUsd: 0 });

/**
 * A non-fatal upstream failure becomes the item's failure; a fatal one (or any error
 * once the run is being stopped) is rethrown, and the runner puts the item back.
 */
export function upstreamFailure(e: unknown, signal: AbortSignal): string {
  if (e instanceof LlmError && !e.fatal && !signal.aborted) return e.message;
  throw e;
}
