// The autointerp module: explain / score / embed jobs through an OpenAI-compatible endpoint
// (llm-client.ts is the only importer of `openai`), and the offline token-pattern labels.
// It reads and writes through the explanation and job services.
import { AutoInterpService, type AutoInterpDeps } from "./autointerp.service.ts";

export { autointerpResolvers } from "./autointerp.resolvers.ts";
export { AutoInterpService } from "./autointerp.service.ts";
export type { JobKind, JobRequest } from "./autointerp.service.ts";
export { createLlmClient, type LlmClient } from "./llm-client.ts";
export type { RunProgress } from "./pipeline.ts";
export { formatUsd } from "./pricing.ts";
export { SCORE_KINDS, type ScoreKind } from "./score.ts";

export function buildAutoInterpModule(deps: AutoInterpDeps) {
  return { autointerp: new AutoInterpService(deps) };
}
