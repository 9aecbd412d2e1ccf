// Activation examples as auto-interp reads them: a feature's examples, the strongest contexts
// of many features (fuzzing's distractors), streaming chunks, and which features still lack
// a kind of work (explanations, scores, embeddings).
import type { ExamplesRepository } from "./examples.repository.ts";

export type { ExampleRow, Selection } from "./examples.repository.ts";

export class ExamplesService {
  constructor(private readonly repo: ExamplesRepository) {}

  examplesOf(...a: Parameters<ExamplesRepository["examplesOf"]>) {
    return this.repo.examplesOf(...a);
  }

  activeFeatureIndices(...a: Parameters<ExamplesRepository["activeFeatureIndices"]>) {
    return this.repo.activeFeatureIndices(...a);
  }

  strongestContexts(...a: Parameters<ExamplesRepository["strongestContexts"]>) {
    return this.repo.strongestContexts(...a);
  }

  chunk(...a: Parameters<ExamplesRepository["chunk"]>) {
    return this.repo.chunk(...a);
  }

  maxFeatureIndex(...a: Parameters<ExamplesRepository["maxFeatureIndex"]>) {
    return this.repo.maxFeatureIndex(...a);
  }

  explainCandidates(...a: Parameters<ExamplesRepository["explainCandidates"]>) {
    return this.repo.explainCandidates(...a);
  }

  scoreCandidates(...a: Parameters<ExamplesRepository["scoreCandidates"]>) {
    return this.repo.scoreCandidates(...a);
  }

  embedCandidates(...a: Parameters<ExamplesRepository["embedCandidates"]>) {
    return this.repo.embedCandidates(...a);
  }
}
