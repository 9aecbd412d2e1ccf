// The per-request GraphQL context: the services resolvers call (shared), the per-request
// loaders, the caller, and the argument limits. Resolvers see this, never the whole App.
import { AppError, ErrorCode } from "../errors.ts";
import type { AutoInterpService } from "../modules/autointerp/autointerp.service.ts";
import type { EncodeService } from "../modules/encode/encode.service.ts";
import type { ExplanationLoaders } from "../modules/explanation/explanation.loaders.ts";
import type { ExplanationService } from "../modules/explanation/explanation.service.ts";
import type { FeatureLoaders } from "../modules/feature/feature.loaders.ts";
import type { FeatureService } from "../modules/feature/feature.service.ts";
import type { GeometryLoaders } from "../modules/geometry/geometry.loaders.ts";
import type { GeometryService } from "../modules/geometry/geometry.service.ts";
import type { JobService } from "../modules/job/job.service.ts";
import type { ListLoaders } from "../modules/list/list.loaders.ts";
import type { ListService } from "../modules/list/list.service.ts";
import type { StepService } from "../modules/job/step.service.ts";
import type { SaeLoaders } from "../modules/sae/sae.loaders.ts";
import type { SaeService } from "../modules/sae/sae.service.ts";
import type { SearchService } from "../modules/search/search.service.ts";
import type { StatsLoaders } from "../modules/stats/stats.loaders.ts";
import type { TextService } from "../modules/text/text.service.ts";
import type { IngestService } from "../ingest/ingest.service.ts";

/** What resolvers call. The composition root's services object is one of these. */
export interface ResolverServices {
  readonly sae: SaeService;
  readonly feature: FeatureService;
  readonly search: SearchService;
  readonly geometry: GeometryService;
  readonly encode: EncodeService;
  readonly jobs: JobService;
  readonly steps: Pick<StepService, "pending">;
  readonly autointerp: AutoInterpService;
  readonly ingest: Pick<IngestService, "removeSae">;
  readonly lists: ListService;
  readonly explanation: ExplanationService;
  readonly text: TextService;
}

/** Per-request DataLoaders, by module (built by graphql/loaders.ts). */
export interface Loaders {
  sae: SaeLoaders;
  feature: FeatureLoaders;
  stats: StatsLoaders;
  explanation: ExplanationLoaders;
  geometry: GeometryLoaders;
  list: ListLoaders;
}

/** The server's maxima for `k` and page sizes (config.server). */
export interface Limits {
  maxK: number;
  maxPageSize: number;
}

export interface Caller {
  authenticated: boolean;
  clientId: string;
}

export interface GraphQLContext {
  services: ResolverServices;
  loaders: Loaders;
  caller: Caller;
  limits: Limits;
  /** Filled in while the operation runs; read by the HTTP layer's access log and metrics. */
  request: { operationName: string | null; operationType: string | null };
}

/** Mutations that start work or change data need an authenticated caller. */
export function requireCaller(ctx: Pick<GraphQLContext, "caller">): void {
  if (!ctx.caller.authenticated)
    throw new AppError(ErrorCode.UNAUTHENTICATED, "this mutation needs an API key: send Authorization: Bearer <key>");
}
