// What each GraphQL object type's resolvers receive as their parent value.
// Features are addressed by key and loaded through per-request DataLoaders.
import type { SaeRecord, ModelRecord, FamilyRecord } from "../modules/sae/sae.repository.ts";

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
export type ExplanationParent = {
  id: bigint | string;
  saeId: string;
  featureIndex: number;
  text: string;
  method: string;
  explainerModel: string;
  createdAt: Date;
};
export type LineageNodeParent = {
  saeId: string;
  index: number;
  cosine: number | null;
  /** Which way to keep expanding from this node, and how far. */
  up: number;
  down: number;
  minCosine: number | null;
};
export type JobParent = {
  id: string;
  kind: string;
  status: string;
  total: number;
  done: number;
  failed: number;
  error: string | null;
};
/** One SAE of a family in the scaling view; its Sae is loaded by id. */
export type FamilyScalingRowParent = import("../modules/stats/stats.service.ts").FamilyScalingRow;
