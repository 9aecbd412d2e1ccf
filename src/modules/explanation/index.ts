// The explanation module: labels, their scores and embeddings, and the activation examples
// auto-interp reads. Others reach it through ExplanationService and ExamplesService.
import type { Database } from "../../db/database.ts";
import { ExamplesRepository } from "./examples.repository.ts";
import { ExamplesService } from "./examples.service.ts";
import { ExplanationRepository } from "./explanation.repository.ts";
import { type ExplanationDeps, ExplanationService } from "./explanation.service.ts";

export { explanationResolvers } from "./explanation.resolvers.ts";
export { createExplanationLoaders, type ExplanationLoaders } from "./explanation.loaders.ts";
export { ExamplesService } from "./examples.service.ts";
export { ExplanationService } from "./explanation.service.ts";

export function buildExplanationModule(db: Database, deps: ExplanationDeps = {}) {
  return {
    explanation: new ExplanationService(new ExplanationRepository(db), deps),
    examples: new ExamplesService(new ExamplesRepository(db)),
  };
}
