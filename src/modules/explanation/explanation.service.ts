// Explanations (labels), their scores and embeddings: read for the API, written by auto-interp
// and by people (human labels).
import { badInput, notFound } from "../../errors.ts";
import type { Logger } from "../../logger.ts";
import { type FeatureKey, featureKey } from "../../shared/feature-key.ts";
import type { ExplanationRecord, ExplanationRepository, ScoreRecord } from "./explanation.repository.ts";

export type { ExplanationRecord, NewExplanation, ScoreRecord } from "./explanation.repository.ts";
// The feature page's one statement (feature module) reads a feature's explanations with its row.
export { explanationsFromJson, FEATURE_EXPLANATIONS_JSON } from "./explanation.repository.ts";

export const HUMAN_METHOD = "human";
export const HUMAN_LABEL_MAX = 1000;

export interface ExplanationDeps {
  /** Run after labels were written for an SAE's features (search indexing); a failure is logged, the label stays. */
  onLabelsChanged?: ((saeId: string, indices: readonly number[]) => Promise<unknown>)[];
  log?: Pick<Logger, "warn">;
}

/** A human label's text: trimmed, 1..HUMAN_LABEL_MAX characters, no NUL. */
export function cleanLabelText(text: string, arg = "text"): string {
  if (text.includes("\u0000")) throw badInput(`${arg} must not contain NUL characters`, { arg });
  const t = text.trim();
  if (t.length === 0) throw badInput(`${arg} must not be empty`, { arg });
  if (t.length > HUMAN_LABEL_MAX) throw badInput(`${arg} must be at most ${HUMAN_LABEL_MAX} characters, got ${t.length}`, { arg, max: HUMAN_LABEL_MAX });
  return t;
}

export class ExplanationService {
  constructor(
    private readonly repo: ExplanationRepository,
    private readonly deps: ExplanationDeps = {},
  ) {}

  /** Stores a human label (method "human"); earlier labels, human or not, are kept. */
  async addHuman(key: FeatureKey, text: string): Promise<ExplanationRecord> {
    if (!Number.isInteger(key.index) || key.index < 0)
      throw badInput(`index must be a non-negative integer, got ${key.index}`, { arg: "index" });
    const t = cleanLabelText(text);
    const row = await this.repo.insertHuman(key.saeId, key.index, t);
    if (!row) {
      const v = await this.repo.visibility(key.saeId, key.index);
      throw notFound(v.sae ? `SAE ${key.saeId} has no feature ${key.index}` : `no SAE with id ${key.saeId}`);
    }
    for (const hook of this.deps.onLabelsChanged ?? []) {
      try {
        await hook(key.saeId, [key.index]);
      } catch (e) {
        this.deps.log?.warn(`after adding a human label to ${featureKey(key)}: ${(e as Error).message}`);
      }
    }
    return row;
  }

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
