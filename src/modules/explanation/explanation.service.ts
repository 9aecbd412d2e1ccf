// Explanations (labels), their scores and embeddings: read for the API, written by auto-interp.
import { type FeatureKey, featureKey } from "../../shared/feature-key.ts";
import type { ExplanationRecord, ExplanationRepository, ScoreRecord } from "./explanation.repository.ts";

export type { ExplanationRecord, NewExplanation, ScoreRecord } from "./explanation.repository.ts";


export class ExplanationService {
  constructor(private readonly repo: ExplanationRepository) {}

  /** Explanations per feature key, best first. */
  async byFeatures(keys: readonly FeatureKey[]): Promise<Map<string, ExplanationRecord[]>> {
    const out = new Map<string, ExplanationRecord[]>();
    for (const r of await this.repo.byFeatures(keys)) {
      const k = featureKey({ saeId: r.saeId, index: r.featureIndex });
      const list = out.get(k);
      if (list) list.push(r);
      else out.set(k, [r]);
    }
    return out;
  }

  /** The label of each feature: its best-scoring explanation (scored above unscored, LLM above token patterns, newest). */
  async bestByFeatures(keys: readonly FeatureKey[]): Promise<Map<string, ExplanationRecord>> {
    return new Map((await this.repo.bestByFeatures(keys)).map((r) => [featureKey({ saeId: r.saeId, index: r.featureIndex }), r]));
  }

  async scoresByExplanationIds(ids: readonly string[]): Promise<Map<string, ScoreRecord[]>> {
    const out = new Map<string, ScoreRecord[]>();
    for (const s of await this.repo.scoresByExplanationIds(ids)) {
      const list = out.get(s.explanationId);
      if (list) list.push(s);
      else out.set(s.explanationId, [s]);
    }
    return out;
  }

  labeledFractions(saeIds: readonly string[]): Promise<Map<string, number>> {
    return this.repo.labeledFractions(saeIds);
  }

  find(...a: Parameters<ExplanationRepository["find"]>) {
    return this.repo.find(...a);
  }

  insert(...a: Parameters<ExplanationRepository["insert"]>) {
    return this.repo.insert(...a);
  }

  upsertMany(...a: Parameters<ExplanationRepository["upsertMany"]>) {
    return this.repo.upsertMany(...a);
  }

  countByMethod(...a: Parameters<ExplanationRepository["countByMethod"]>) {
    return this.repo.countByMethod(...a);
  }

  deleteMethodExcept(...a: Parameters<ExplanationRepository["deleteMethodExcept"]>) {
    return this.repo.deleteMethodExcept(...a);
  }

  unscored(...a: Parameters<ExplanationRepository["unscored"]>) {
    return this.repo.unscored(...a);
  }

  insertScores(...a: Parameters<ExplanationRepository["insertScores"]>) {
    return this.repo.insertScores(...a);
  }

  unembedded(...a: Parameters<ExplanationRepository["unembedded"]>) {
    return this.repo.unembedded(...a);
  }

  insertEmbeddings(...a: Parameters<ExplanationRepository["insertEmbeddings"]>) {
    return this.repo.insertEmbeddings(...a);
  }
}
