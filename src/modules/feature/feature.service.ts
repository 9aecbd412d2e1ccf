// Rules for reading features: key validation, pagination (one extra row tells
// whether a next page exists), filter checks, dashboard parsing.
import { type FeatureKey, featureKey } from "../../shared/feature-key.ts";
import { badInput } from "../../errors.ts";
import { checkK, checkPageSize, DEFAULT_LIMITS, type RequestLimits } from "../../shared/limits.ts";
import type { SaeService } from "../sae/sae.service.ts";
import { decodeCursor, encodeCursor } from "./feature.cursor.ts";
import { type Histogram, parseHistogram, parseTokenValues, type TokenValue } from "./feature.dashboard.ts";
import { type ExplanationRecord, explanationsFromJson, FEATURE_EXPLANATIONS_JSON } from "../explanation/explanation.service.ts";
import type { ActivationRow, FeatureFilter, FeatureOrder, FeaturePageRow, FeatureRepository, FeatureRow, PageParts } from "./feature.repository.ts";

export type { ActivationRow, FeatureFilter, FeatureOrder, FeatureRow } from "./feature.repository.ts";

/**
 * What a feature page reads with its row in one statement: labels, activation examples per
 * (first, kinds), the stored neighbour list. Built by the GraphQL layer from the selection.
 */
export interface PageRequest {
  explanations: boolean;
  activations: { first: number; kinds: readonly ActivationKind[] }[];
  neighbourList: boolean;
}
/** A feature row with the parts its page asked for (activations in PageRequest order). */
export type FeaturePageData = FeaturePageRow<ExplanationRecord>;

const EXPLANATIONS = { sql: FEATURE_EXPLANATIONS_JSON, parse: explanationsFromJson };

export type ActivationKind = "TOP" | "QUANTILE";
export interface FeatureDashboard {
  logits: { positive: TokenValue[]; negative: TokenValue[] } | null;
  histograms: { activationDensity: Histogram | null; logits: Histogram | null } | null;
}
export interface FeaturePage {
  edges: { cursor: string; row: FeatureRow }[];
  hasNextPage: boolean;
  endCursor: string | null;
}


export class FeatureService {
  constructor(
    private readonly repo: FeatureRepository,
    private readonly saes: SaeService,
    private readonly limits: RequestLimits = DEFAULT_LIMITS,
  ) {}

  featuresByKeys(keys: readonly FeatureKey[]): Promise<FeatureRow[]> {
    return this.repo.featuresByKeys(keys);
  }

  /**
   * want reduced to what the page statement answers: activation requests that read nothing,
   * repeat another or fail their checks are dropped (their fields read or report them alone).
   */
  pageRequest(want: PageRequest): PageRequest {
    const seen = new Set<string>();
    const activations = want.activations.filter(({ first, kinds }) => {
      const id = `${first}|${[...kinds].sort().join(",")}`;
      if (first === 0 || kinds.length === 0 || seen.has(id)) return false;
      try {
        checkK(this.limits, first, "first");
      } catch {
        return false;
      }
      seen.add(id);
      return true;
    });
    return { explanations: want.explanations, activations, neighbourList: want.neighbourList };
  }

  /** Feature rows with their pages' parts, one statement for all keys (a request from pageRequest). */
  async pagesByKeys(keys: readonly FeatureKey[], req: PageRequest): Promise<Map<string, FeaturePageData>> {
    const parts: PageParts<ExplanationRecord> = {
      explanations: req.explanations ? EXPLANATIONS : null,
      activations: req.activations.map((a) => ({ first: a.first, kinds: a.kinds.map((k) => k.toLowerCase()) })),
      neighbourList: req.neighbourList,
    };
    return new Map((await this.repo.pagesByKeys(keys, parts)).map((p) => [featureKey(p.row), p]));
  }

  decodersByKeys(keys: readonly FeatureKey[]): Promise<Map<string, Float32Array>> {
    return this.repo.decodersByKeys(keys);
  }

  async dashboardsByKeys(keys: readonly FeatureKey[]): Promise<Map<string, FeatureDashboard>> {
    const out = new Map<string, FeatureDashboard>();
    for (const r of await this.repo.dashboardsByKeys(keys)) {
      const positive = parseTokenValues(r.posLogits);
      const negative = parseTokenValues(r.negLogits);
      const activationDensity = parseHistogram(r.freqHistogram);
      const logits = parseHistogram(r.logitsHistogram);
      out.set(featureKey(r), {
        logits: positive || negative ? { positive: positive ?? [], negative: negative ?? [] } : null,
        histograms: activationDensity || logits ? { activationDensity, logits } : null,
      });
    }
    return out;
  }

  activationsByKeys(keys: readonly FeatureKey[], first: number, kinds: readonly ActivationKind[]): Promise<ActivationRow[]> {
    if (first === 0 || kinds.length === 0) return Promise.resolve([]);
    checkK(this.limits, first, "first");
    return this.repo.activationsByKeys(keys, first, kinds.map((k) => k.toLowerCase()));
  }

  /** One page of an SAE's features. */
  async page(args: { saeId: string; first: number; after?: string | null; orderBy: FeatureOrder; filter: FeatureFilter }): Promise<FeaturePage> {
    checkFilter(args.filter);
    checkPageSize(this.limits, args.first);
    const after = args.after ? decodeCursor(args.orderBy, args.after) : null;
    await this.saes.requireSae(args.saeId);
    if (args.first === 0) return { edges: [], hasNextPage: false, endCursor: null };
    const rows = await this.repo.page(args.saeId, args.orderBy, args.filter, after, args.first + 1);
    const hasNextPage = rows.length > args.first;
    const edges = rows.slice(0, args.first).map((row) => ({ cursor: encodeCursor(args.orderBy, row), row }));
    return { edges, hasNextPage, endCursor: edges.at(-1)?.cursor ?? null };
  }

  count(saeId: string, filter: FeatureFilter): Promise<number> {
    return this.repo.count(saeId, filter);
  }
}

function checkFilter(f: FeatureFilter) {
  for (const name of ["minDensity", "maxDensity"] as const) {
    const v = f[name];
    if (v != null && !(v >= 0 && v <= 1)) throw badInput(`filter.${name} must be a fraction between 0 and 1, got ${v}`);
  }
  if (f.minDensity != null && f.maxDensity != null && f.minDensity > f.maxDensity) {
    throw badInput(`filter.minDensity (${f.minDensity}) is greater than filter.maxDensity (${f.maxDensity})`);
  }
}
