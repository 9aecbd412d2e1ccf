// The stored sizes of list-valued fields (the longest stored list behind each), for the query
// cost limit: graphql/cost.ts charges a list field without first/k at its stored size, so the
// bound has to be current when a query is costed. A look stays current while this process
// writes nothing (Database.stats.writes), for at most a second so that other processes' writes
// are seen; read-only traffic then costs no statement here. Each look runs one cheap statement (SAE
// versions, id watermarks) and, for the sizes its caller needs, rescans only what changed:
// an SAE whose version moved, the features that got explanations since the last id seen.
// Bounds only grow between deletes of whole SAEs (a deleted SAE drops out), which errs on
// the side of refusing. The first look at the examples of a large SAE is a scan of its
// activation rows (about 1.5 s per 300,000 on PGlite, 0.7 s on PostgreSQL, on a loaded
// 2-core machine); the server starts it when it starts listening.
import type { SaeSizeRow, SizesRepository } from "./sizes.repository.ts";

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
  /** The server's token limit for text through a model (MONOSCOPE_TEXT_MAX_TOKENS): the most tokens a text answer has. */
  textTokens: number;
  /** Most post-ingest step rows of one SAE. */
  steps: number;
  explanationsPerFeature: number;
  scoresPerExplanation: number;
  parentsPerFeature: number;
  childrenPerFeature: number;
}

export type StoredSizeKey = keyof StoredSizes;

// What each size costs to know: the look (one cheap statement) answers the first group; the
// others need scans, so a look runs only those its caller asked for.
type Group = "look" | "examples" | "explanations" | "scores" | "edges";
const GROUP: Record<StoredSizeKey, Group> = {
  models: "look",
  families: "look",
  saes: "look",
  dIn: "look",
  steps: "look",
  tokens: "examples",
  logits: "examples",
  histogram: "examples",
  textTokens: "look",
  explanationsPerFeature: "explanations",
  scoresPerExplanation: "scores",
  parentsPerFeature: "edges",
  childrenPerFeature: "edges",
};
const ALL = Object.keys(GROUP) as StoredSizeKey[];

export class StoredSizeService {
  private readonly bySae = new Map<string, { version: string; size: SaeSizeRow }>();
  private explanationMark: number | null = null;
  private scoreMark: number | null = null;
  private lineageMark: string | null = null;
  private readonly sizes: StoredSizes = {
    models: 0, families: 0, saes: 0, dIn: 0, steps: 0, tokens: 0, logits: 0, histogram: 0, textTokens: 0,
    explanationsPerFeature: 0, scoresPerExplanation: 0, parentsPerFeature: 0, childrenPerFeature: 0,
  };
  private inFlight: { groups: Set<Group>; done: Promise<StoredSizes> } | null = null;
  /** The last completed look: the groups it read, this process's write count before it, when. */
  private lastLook: { groups: Set<Group>; writes: number; at: number } | null = null;

  /**
   * fresh: this process's count of statements that may have written (Database.stats.writes) and
   * how long a look stays current when that count has not moved: another process's writes (an
   * API replica, an ingest from the CLI) are seen within ttlMs. Without it every call looks.
   */
  constructor(
    private readonly repo: SizesRepository,
    textTokens = 0,
    private readonly fresh: { writes(): number; ttlMs: number } | null = null,
  ) {
    this.sizes.textTokens = textTokens;
  }

  /**
   * The sizes as stored now, exact for the keys asked for (the others as last seen). A caller
   * shares a look in flight that covers its keys (it started at most one round trip earlier);
   * otherwise its look runs after that one.
   */
  current(keys: Iterable<StoredSizeKey> = ALL): Promise<StoredSizes> {
    const groups = new Set([...keys].map((k) => GROUP[k]));
    // Read-only traffic runs no statement here: nothing was written in this process since the
    // last look that covered these sizes, and other processes get ttlMs to be seen.
    const last = this.lastLook;
    if (this.fresh && last && this.fresh.writes() === last.writes && Date.now() - last.at < this.fresh.ttlMs && [...groups].every((g) => last.groups.has(g)))
      return Promise.resolve({ ...this.sizes });
    const running = this.inFlight;
    if (running && [...groups].every((g) => running.groups.has(g))) return running.done;
    const done = (running ? running.done.catch(() => null) : Promise.resolve(null)).then(() => this.look(groups));
    const entry = { groups, done };
    this.inFlight = entry;
    void done.finally(() => this.inFlight === entry && (this.inFlight = null)).catch(() => {});
    return done;
  }

  private async look(groups: Set<Group>): Promise<StoredSizes> {
    const writes = this.fresh?.writes() ?? 0;
    const at = Date.now();
    this.lastLook = null;
    const result = await this.lookNow(groups);
    this.lastLook = { groups, writes, at };
    return result;
  }

  private async lookNow(groups: Set<Group>): Promise<StoredSizes> {
    const { saes, ...marks } = await this.repo.look();
    const s = this.sizes;
    Object.assign(s, { models: marks.models, families: marks.families, saes: saes.length, steps: marks.steps });
    s.dIn = saes.reduce((m, x) => Math.max(m, x.dIn), 0);
    if (groups.has("examples")) {
      const seen = new Set(saes.map((x) => x.id));
      for (const id of this.bySae.keys()) if (!seen.has(id)) this.bySae.delete(id);
      const changed = saes.filter((x) => this.bySae.get(x.id)?.version !== x.version);
      if (changed.length) {
        const rows = new Map((await this.repo.perSae(changed.map((x) => x.id))).map((r) => [r.id, r]));
        for (const x of changed) {
          const size = rows.get(x.id);
          if (size) this.bySae.set(x.id, { version: x.version, size });
        }
      }
      const all = [...this.bySae.values()].map((x) => x.size);
      for (const k of ["tokens", "logits", "histogram"] as const) s[k] = all.reduce((m, x) => Math.max(m, x[k]), 0);
    }
    // Label and score counts only grow between deletes of whole SAEs: rescan the features
    // (explanations) that got rows since the last mark, and keep the larger bound.
    if (groups.has("explanations") && marks.explanationId !== this.explanationMark) {
      s.explanationsPerFeature = Math.max(s.explanationsPerFeature, await this.repo.explanationsPerFeature(this.explanationMark ?? 0));
      this.explanationMark = marks.explanationId;
    }
    if (groups.has("scores") && marks.scoreId !== this.scoreMark) {
      s.scoresPerExplanation = Math.max(s.scoresPerExplanation, await this.repo.scoresPerExplanation(this.scoreMark ?? 0));
      this.scoreMark = marks.scoreId;
    }
    if (groups.has("edges") && marks.lineageBuilt !== this.lineageMark) {
      const e = await this.repo.edgesPerFeature();
      Object.assign(s, { parentsPerFeature: e.parents, childrenPerFeature: e.children });
      this.lineageMark = marks.lineageBuilt;
    }
    return { ...s };
  }
}
