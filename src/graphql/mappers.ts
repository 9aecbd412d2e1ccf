// What each GraphQL object type's resolvers receive as their parent value.
// Features are addressed by key and loaded through per-request DataLoaders.
import type { SaeRecord, ModelRecord, FamilyRecord } from "../modules/sae/sae.service.ts";
import type { ExplanationRecord } from "../modules/explanation/explanation.service.ts";
import type { JobItemRecord, JobRecord } from "../modules/job/job.service.ts";

export type ModelParent = ModelRecord;
export type FamilyParent = FamilyRecord;
export type SaeParent = SaeRecord;
export type SaeStatsParent = { saeId: string };
export type FeatureParent = { saeId: string; index: number };
/** A page of features; totalCount is counted only when asked for. */
export type FeatureConnectionParent = {
  edges: { cursor: string; node: FeatureParent }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
  saeId: string;
  filter: { labeled?: boolean | null; minDensity?: number | null; maxDensity?: number | null };
};
export type ExplanationParent = ExplanationRecord;
export type LineageNodeParent = {
  saeId: string;
  index: number;
  cosine: number | null;
  coactivation: number | null;
  /** Which way to keep expanding from this node, and how far. */
  up: number;
  down: number;
  minCosine: number | null;
};
export type JobParent = JobRecord;
export type JobItemParent = JobItemRecord;
/** One SAE of a family in the scaling view; its Sae is loaded by id. */
export type FeatureListParent = import("../modules/list/list.service.ts").ListRecord;
export type FeatureListItemParent = import("../modules/list/list.service.ts").ListItemRecord;
export type FamilyScalingRowParent = import("../modules/stats/stats.service.ts").FamilyScalingRow;
/** A stored graph with the pruning its query asked for; view() loads and prunes it once, when a field needs it. */
export type AttributionGraphParent = import("../modules/graph/graph.service.ts").GraphParent;
export type GraphNodeParent = { graph: import("../modules/graph/graph.service.ts").LoadedGraph; pos: number };
export type GraphLinkParent = { graph: import("../modules/graph/graph.service.ts").LoadedGraph; pos: number };
export type GraphPathParent = import("../modules/graph/graph.service.ts").GraphPathRecord;
export type GraphMediatorParent = import("../modules/graph/graph.service.ts").GraphMediatorRecord;
export type GraphAppearanceParent = { graph: import("../modules/graph/graph.service.ts").GraphParent; pos: number };
export type GraphComparisonParent = import("../modules/graph/graph.service.ts").GraphComparisonRecord;
export type GraphFeatureComparisonParent = import("../modules/graph/compare.ts").SharedFeature & {
  ga: import("../modules/graph/graph.service.ts").LoadedGraph;
  gb: import("../modules/graph/graph.service.ts").LoadedGraph;
};
