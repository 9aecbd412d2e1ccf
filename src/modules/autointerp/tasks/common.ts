// What the job tasks share: the repositories and client they use, and turning a
// repository row into a prompt example.
import type { Logger } from "../../../logger.ts";
import type { ExampleRow, ExamplesRepository } from "../../explanation/examples.repository.ts";
import type { ExplanationRepository } from "../../explanation/explanation.repository.ts";
import type { Spend } from "../../job/job.repository.ts";
import type { Example } from "../examples.ts";
import { LlmError, type LlmClient } from "../llm-client.ts";

export interface TaskDeps {
  llm: LlmClient;
  explanations: ExplanationRepository;
  examples: ExamplesRepository;
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
