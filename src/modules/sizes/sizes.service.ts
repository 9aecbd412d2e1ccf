// The stored sizes of list-valued fields (the longest stored list behind each), for the query
// cost limit: graphql/cost.ts charges a list field without first/k at its stored size, so the
// bound has to be current when a query is costed. Each look runs the cheap statements (SAE
// versions, id watermarks) and rescans only what changed: an SAE whose version moved, the
// features that got explanations since the last id seen. Bounds only grow between deletes of
// whole SAEs (a deleted SAE drops out), which errs on the side of refusing.
import type { SaeSizeRow, SizesRepository, WatermarkRow } from "./sizes.repository.ts";

/** The longest stored list behind each list-valued field (graphql/cost.ts LIST_SIZES). */
export interface StoredSizes {
  models: number;
  families: number;
  saes: number;
  /** Largest d_in: a decoder direction's length. */
  dIn: number;
  /** Longest activation example (tokens, values). */
  tokens: number;
  /** Longest logit list (positive or negative). */
  logits: number;
  /** Most histogram bars. */
  histogram: number;
  /** Most post-ingest step rows of one SAE. */
  steps: number;
  explanationsPerFeature: number;
  scoresPerExplanation: number;
  parentsPerFeature: number;
  childrenPerFeature: number;
}

export type StoredSizeKey = keyof StoredSizes;

export class StoredSizeService {
  private readonly bySae = new Map<string, { version: string; dIn: number; size: SaeSizeRow }>();
  private marks: WatermarkRow | null = null;
  private explanations = 0;
  private scores = 0;
  private edges = { parents: 0, children: 0 };
  private inFlight: Promise<StoredSizes> | null = null;

  constructor(private readonly repo: SizesRepository) {}

  /**
   * The sizes as stored now. Concurrent callers share one look (it started at most one
   * statement round trip before them).
   */
  current(): Promise<StoredSizes> {
    if (!this.inFlight) this.inFlight = this.look().finally(() => (this.inFlight = null));
    return this.inFlight;
  }

  private async look(): Promise<StoredSizes> {
    const { saes, ...marks } = await this.repo.look();
    const seen = new Set(saes.map((s) => s.id));
    for (const id of this.bySae.keys()) if (!seen.has(id)) this.bySae.delete(id);
    const changed = saes.filter((s) => this.bySae.get(s.id)?.version !== s.version);
    if (changed.length) {
      const sizes = new Map((await this.repo.perSae(changed.map((s) => s.id))).map((r) => [r.id, r]));
      for (const s of changed) {
        const size = sizes.get(s.id);
        if (size) this.bySae.set(s.id, { version: s.version, dIn: s.dIn, size });
      }
    }
    const prev = this.marks;
    if (!prev || marks.explanationId > prev.explanationId)
      this.explanations = Math.max(this.explanations, await this.repo.explanationsPerFeature(prev?.explanationId ?? 0));
    if (!prev || marks.scoreId > prev.scoreId) this.scores = Math.max(this.scores, await this.repo.scoresPerExplanation(prev?.scoreId ?? 0));
    if (!prev || marks.lineageBuilt !== prev.lineageBuilt) this.edges = await this.repo.edgesPerFeature();
    this.marks = marks;

    const all = [...this.bySae.values()];
    const max = (f: (x: (typeof all)[number]) => number) => all.reduce((m, x) => Math.max(m, f(x)), 0);
    return {
      models: marks.models,
      families: marks.families,
      saes: saes.length,
      dIn: max((x) => x.dIn),
      tokens: max((x) => x.size.tokens),
      logits: max((x) => x.size.logits),
      histogram: max((x) => x.size.histogram),
      steps: marks.steps,
      explanationsPerFeature: this.explanations,
      scoresPerExplanation: this.scores,
      parentsPerFeature: this.edges.parents,
      childrenPerFeature: this.edges.children,
    };
  }
}
