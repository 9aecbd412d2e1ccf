// Concept search: SEMANTIC (cosine between the query's and labels' embeddings, one
// embedder at a time), LEXICAL (full text over labels and activating text, plus
// trigrams for short or misspelled queries) and HYBRID (reciprocal-rank fusion of the
// two). Also keeps the search documents and the offline label embeddings current.
export { openaiEmbedderId } from "./embedder.ts";
import { featureKey } from "../../shared/feature-key.ts";
import { AppError, badInput, ErrorCode, notFound } from "../../errors.ts";
import { checkK, DEFAULT_LIMITS } from "../../shared/limits.ts";
import type { Logger } from "../../logger.ts";
import type { SaeService } from "../sae/sae.service.ts";
import { type Embedder, OFFLINE_EMBEDDER_ID } from "./embedder.ts";
import type { EmbeddingsClient } from "./embedder-openai.ts";
import { Embedders } from "./embedders.ts";
import { HYBRID_RRF_K, reciprocalRankFusion } from "./fusion.ts";
import type { LexicalHit, LexicalParams, SearchRepository, SearchScope, SemanticHit } from "./search.repository.ts";

export type SearchMode = "HYBRID" | "SEMANTIC" | "LEXICAL";

export interface SearchRequest extends SearchScope {
  query: string;
  k?: number;
  mode?: SearchMode;
  /** Force an embedder id for SEMANTIC/HYBRID (default: the endpoint's when its vectors exist, else the offline one). */
  embedder?: string | null;
}

export interface ConceptHit {
  saeId: string;
  index: number;
  score: number;
  /** The label, or the activating context, that matched. */
  matchedText: string | null;
}

export interface SearchServiceOptions {
  /** The endpoint client when config.llm is set, and its embedding model. */
  llm?: { client: EmbeddingsClient; embeddingModel: string } | null;
  /** Where the offline embedder's word table lives (default data/demo/word-vectors). */
  wordVectorsDir?: string;
  maxK?: number;
  /** Label vectors of one embedder above which an HNSW index is built (default HNSW_MIN_VECTORS). */
  hnswMinVectors?: number;
  log?: Logger;
}

const MAX_QUERY_CHARS = 1000;

/**
 * Lexical ranking: cover density (ts_rank_cd: several query words close together count
 * for more than one word alone) normalised by document length (flag 1) so a feature with
 * many long contexts does not win by volume, plus trigram word similarity at half weight:
 * it rescues misspellings but should not outrank a real word match. On the demo
 * evaluation set (its 44 queries before the tuning/held-out split) cover density beat
 * plain ts_rank (LEXICAL MRR 0.65 vs 0.60).
 */
export const LEXICAL_PARAMS: LexicalParams = { trigramWeight: 0.5, rankNormalization: 1 };

/**
 * Below this many label vectors of one embedder an exact scan is fast enough (and exact);
 * above, an HNSW index answers. Measured on 100k synthetic labels (100-d, busy 2-core
 * machine): exact scan ~250 ms; HNSW recall@10 0.91 at ef_search 40, 0.98 at 200 for
 * ~2 ms more (5 -> 7 ms per index scan), so ef_search starts at 200 (scripts/bench/search.ts).
 */
export const HNSW_MIN_VECTORS = 20_000;
const HNSW_MIN_EF_SEARCH = 200;

/**
 * How deep each list is read before fusion: deep enough that agreement below the top k
 * counts. On the tuning half of the demo evaluation set max(2k, 30) fuses as well as 50
 * or 100 (MRR@10 0.806 vs 0.800 and 0.795 at k = 10) and keeps HYBRID cheap on large label sets.
 */
export const fusionDepth = (k: number) => Math.min(Math.max(2 * k, 30), 500);

export class SearchService {
  private readonly embedders: Embedders;

  constructor(
    private readonly repo: SearchRepository,
    private readonly saes: SaeService,
    private readonly options: SearchServiceOptions = {},
  ) {
    this.embedders = new Embedders(repo.vectors, options);
  }

  async search(req: SearchRequest): Promise<ConceptHit[]> {
    const query = req.query.trim();
    if (!query) throw badInput("query must not be empty");
    if (query.length > MAX_QUERY_CHARS) throw badInput(`query is too long (${query.length} characters; at most ${MAX_QUERY_CHARS})`);
    const k = checkK({ maxK: this.options.maxK ?? DEFAULT_LIMITS.maxK }, req.k ?? 20);
    if (req.minScore !== null && req.minScore !== undefined && !Number.isFinite(req.minScore)) throw badInput("minScore must be a number");
    await this.checkScope(req);
    const mode = req.mode ?? "HYBRID";
    if (mode === "LEXICAL") {
      const lex = await this.repo.documents.lexical(query, req, k, LEXICAL_PARAMS);
      return this.withSnippets(query, lex.map((h) => ({ ...key(h), score: h.score, lex: h })));
    }
    if (mode === "SEMANTIC") {
      const sem = await this.semantic(query, req, k, req.embedder ?? null, true);
      return sem.map((h) => ({ saeId: h.saeId, index: h.index, score: h.score, matchedText: h.label }));
    }
    const depth = fusionDepth(k);
    const [sem, lex] = await Promise.all([
      this.semantic(query, req, depth, req.embedder ?? null, false),
      this.repo.documents.lexical(query, req, depth, LEXICAL_PARAMS),
    ]);
    const fused = reciprocalRankFusion<{ key: string; sem?: SemanticHit; lex?: LexicalHit }>([
      sem.map((h) => ({ key: key(h).key, sem: h })),
      lex.map((h) => ({ key: key(h).key, lex: h })),
    ], HYBRID_RRF_K).slice(0, k);
    return this.withSnippets(
      query,
      fused.map((f) => {
        const s = f.from[0]?.sem;
        const l = f.from[1]?.lex;
        const hit = (s ?? l)!;
        // A label that matched either way is shown; activating text only when words matched nothing else.
        return { saeId: hit.saeId, index: hit.index, key: f.key, score: f.score, lex: l && !l.labelMatched && !s ? l : undefined, label: s?.label ?? l?.label };
      }),
    );
  }

  /** Rebuilds one SAE's search documents (call after its labels or activations change). */
  async refreshSearchDocuments(saeId: string): Promise<number> {
    return this.repo.documents.refreshDocuments(saeId);
  }

  /**
   * Embeds an SAE's labels: offline (default; re-embeds all, it is cheap) or through the
   * endpoint ("openai", only labels without a vector yet). Returns how many were stored.
   */
  async embedLabels(saeId: string, which: "offline" | "openai" = "offline", opts: { deferIndex?: boolean; indices?: readonly number[] } = {}): Promise<number> {
    if (which === "offline") {
      const labels = await this.repo.vectors.labelsToEmbed(saeId, OFFLINE_EMBEDDER_ID, false, opts.indices);
      if (labels.length === 0) return 0;
      const embedder = await this.embedders.offline(true);
      const vectors = await embedder.embed(labels.map((l) => l.text));
      const items = labels.flatMap((l, i) => (vectors[i] ? [{ id: l.id, vector: vectors[i] }] : []));
      const dim = this.embedders.sif().table.dim;
      await this.writeVectors(embedder.id, dim, items, opts);
      await this.repo.vectors.deleteEmbeddings(embedder.id, labels.filter((_, i) => !vectors[i]).map((l) => l.id));
      return items.length;
    }
    const embedder = this.embedders.endpoint();
    if (!embedder) throw badInput("no embeddings endpoint is configured: set OPENAI_API_KEY and/or OPENAI_BASE_URL");
    const labels = await this.repo.vectors.labelsToEmbed(saeId, embedder.id, true);
    if (labels.length === 0) return 0;
    const vectors = await embedder.embed(labels.map((l) => l.text));
    const items = labels.flatMap((l, i) => (vectors[i] ? [{ id: l.id, vector: vectors[i] }] : []));
    if (items.length === 0) return 0;
    const dim = items[0].vector.length;
    await this.repo.vectors.saveEmbedder({ id: embedder.id, kind: "openai", dim, params: { model: embedder.model } });
    await this.writeVectors(embedder.id, dim, items, opts);
    return items.length;
  }

  /**
   * What `monoscope demo` and the label steps call: offline embeddings (when the word
   * table exists) and search documents for one SAE.
   */
  async indexSae(saeId: string, opts: { deferIndex?: boolean } = {}): Promise<{ documents: number; embedded: number }> {
    let embedded = 0;
    if (this.offlineAvailable()) embedded = await this.embedLabels(saeId, "offline", opts);
    else this.options.log?.warn(`no word-vector table: ${saeId}'s labels are searchable by words only`);
    const documents = await this.refreshSearchDocuments(saeId);
    return { documents, embedded };
  }

  /**
   * After the labels of a few features changed (a human label): re-embeds and re-indexes only
   * those features, not the whole SAE (which takes seconds on large SAEs).
   */
  async indexFeatures(saeId: string, indices: readonly number[]): Promise<{ documents: number; embedded: number }> {
    let embedded = 0;
    if (this.offlineAvailable()) embedded = await this.embedLabels(saeId, "offline", { indices });
    const documents = await this.repo.documents.refreshDocuments(saeId, indices);
    return { documents, embedded };
  }

  /**
   * Whether an SAE's labels are all in its search documents and (with the word table)
   * embedded offline. A few labels may have no known word to embed, hence the 95%.
   */
  async isIndexed(saeId: string): Promise<boolean> {
    const s = await this.repo.documents.indexStatus(saeId, OFFLINE_EMBEDDER_ID);
    if (s.labelledDocuments !== s.labels) return false;
    if ((await this.repo.documents.documentCount(saeId)) === 0) return false;
    return !this.offlineAvailable() || s.vectors >= 0.95 * s.labels;
  }

  /** Re-fits the offline embedder (after the word table changed) and re-embeds and re-indexes every SAE. */
  async reindexAll(log?: (line: string) => void): Promise<void> {
    if (this.offlineAvailable()) {
      await this.repo.vectors.dropEmbedder(OFFLINE_EMBEDDER_ID);
      this.embedders.forgetOffline();
    }
    // Every SAE's vectors first, then one index build (cheaper than growing it SAE by SAE).
    for (const id of await this.repo.documents.readySaeIds()) {
      const r = await this.indexSae(id, { deferIndex: true });
      log?.(`${id}: ${r.embedded} label vectors, ${r.documents} search documents`);
    }
    if (this.offlineAvailable()) await this.ensureIndex(OFFLINE_EMBEDDER_ID, this.embedders.sif().table.dim);
  }

  offlineAvailable(): boolean {
    return this.embedders.offlineAvailable();
  }

  /** Best label per feature by cosine. `strict`: a missing embedder is an error (else: no semantic hits). */
  private async semantic(query: string, scope: SearchScope, limit: number, requested: string | null, strict: boolean): Promise<SemanticHit[]> {
    let embedder: Embedder;
    try {
      embedder = await this.embedders.forQuery(requested);
    } catch (e) {
      if (strict || requested || !(e instanceof AppError) || e.code !== ErrorCode.BAD_USER_INPUT) throw e;
      this.options.log?.debug(`semantic search skipped: ${e.message}`);
      return [];
    }
    const [vec] = await embedder.embed([query]);
    if (!vec) return [];
    // Features can carry several labels: read past duplicates, keep each feature's best
    // (twice the labels first; more only when duplicates used them up).
    for (let n = limit * 2; ; n *= 4) {
      const rows = await this.nearestLabels(embedder.id, vec, scope, n);
      const seen = new Set<string>();
      const out: SemanticHit[] = [];
      for (const r of rows) {
        const kk = key(r).key;
        if (seen.has(kk)) continue;
        seen.add(kk);
        out.push(r);
        if (out.length === limit) break;
      }
      if (out.length === limit || rows.length < n) return out;
    }
  }

  /**
   * Exact scan, or the embedder's HNSW index once there is one (built when the embedder
   * passes HNSW_MIN_VECTORS labels). When filters leave too few of the index's nearest
   * vectors, the exact scan answers instead: filters never cost recall.
   */
  private async nearestLabels(embedder: string, vec: Float32Array, scope: SearchScope, n: number): Promise<SemanticHit[]> {
    if (await this.repo.vectors.hasEmbeddingIndex(embedder, vec.length)) {
      const fetch = 2 * n;
      const r = await this.repo.vectors.semanticIndexed(embedder, vec.length, vec, scope, n, {
        fetch,
        efSearch: Math.min(1000, Math.max(HNSW_MIN_EF_SEARCH, Math.ceil(fetch / 3))),
      });
      if (r.hits.length >= n || r.fetched < fetch) return r.hits;
    }
    return this.repo.vectors.semantic(embedder, vec, scope, n);
  }

  /**
   * Stores vectors. Inserting into an HNSW index costs more per vector than building it
   * (measured: 2,000 inserts ~10 s on a busy 2-core machine), so a write that adds more
   * than a tenth of the index drops it and builds it again afterwards.
   */
  private async writeVectors(embedder: string, dim: number, items: { id: string; vector: Float32Array }[], opts: { deferIndex?: boolean }) {
    if (dim <= 2000 && (await this.repo.vectors.hasEmbeddingIndex(embedder, dim))) {
      const count = await this.repo.vectors.embeddingCount(embedder);
      if (opts.deferIndex || items.length > 0.1 * count) await this.repo.vectors.dropEmbeddingIndex(embedder, dim);
    }
    await this.repo.vectors.upsertEmbeddings(embedder, dim, items);
    if (!opts.deferIndex) await this.ensureIndex(embedder, dim);
  }

  /** Builds the embedder's partial HNSW index once it holds enough vectors for exact scans to slow down. */
  private async ensureIndex(embedder: string, dim: number): Promise<void> {
    if (dim > 2000 || (await this.repo.vectors.hasEmbeddingIndex(embedder, dim))) return;
    if ((await this.repo.vectors.embeddingCount(embedder)) < (this.options.hnswMinVectors ?? HNSW_MIN_VECTORS)) return;
    this.options.log?.info(`building the HNSW index for ${embedder} label vectors`);
    await this.repo.vectors.createEmbeddingIndex(embedder, dim);
  }

  private async withSnippets(
    query: string,
    hits: { saeId: string; index: number; key: string; score: number; lex?: LexicalHit; label?: string }[],
  ): Promise<ConceptHit[]> {
    const needSnippet = hits.filter((h) => h.lex && !h.lex.labelMatched);
    const snippets = await this.repo.documents.snippets(query, needSnippet);
    return hits.map((h) => ({
      saeId: h.saeId,
      index: h.index,
      score: h.score,
      matchedText: snippets.get(h.key) ?? (h.label || h.lex?.label || null),
    }));
  }

  private async checkScope(scope: SearchScope): Promise<void> {
    if (scope.saeIds?.length) {
      const found = new Set((await this.saes.saesByIds(scope.saeIds)).map((s) => s.id));
      const missing = scope.saeIds.filter((id) => !found.has(id));
      if (missing.length) throw notFound(`SAE ${missing.map((m) => JSON.stringify(m)).join(", ")} not found`);
    }
    if (scope.familyId && (await this.saes.familiesByIds([scope.familyId])).length === 0) {
      throw notFound(`family ${JSON.stringify(scope.familyId)} not found`);
    }
    if (scope.modelId && (await this.saes.modelsByIds([scope.modelId])).length === 0) {
      throw notFound(`model ${JSON.stringify(scope.modelId)} not found`);
    }
  }
}

function key(h: { saeId: string; index: number }) {
  return { saeId: h.saeId, index: h.index, key: featureKey(h) };
}
