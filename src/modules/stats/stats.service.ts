// Rules for SAE statistics: what "dead", "aligned" and "correlated" mean, threshold
// checks, and turning counts into fractions (null when nothing is known).
import { badInput } from "../../errors.ts";
import type { BaseStatsRow, DensityBucketRow, FractionRow, ScalingRow, StatsRepository } from "./stats.repository.ts";

export interface DensityHistogram {
  bins: { log10Min: number; log10Max: number; count: number }[];
  deadCount: number;
  unknownCount: number;
}

export const DENSITY_BINS_MAX = 200;

export function assertBins(bins: number, arg = "bins"): number {
  if (!Number.isInteger(bins) || bins < 1 || bins > DENSITY_BINS_MAX)
    throw badInput(`${arg} must be an integer between 1 and ${DENSITY_BINS_MAX}, got ${bins}`, { arg, max: DENSITY_BINS_MAX });
  return bins;
}

export interface SaeBaseStats {
  /** Null when no feature's firing is known (no densities and no examples). */
  deadFraction: number | null;
  /** Median density over features with a known density (dead ones included). */
  medianDensity: number | null;
}

export interface FamilyScalingRow {
  saeId: string;
  dSae: number;
  featureCount: number;
  stable: number;
  split: number;
  vanished: number;
  inherited: number;
  novel: number;
  unclassified: number;
  deadFraction: number | null;
  medianDensity: number | null;
  medianDensityNovel: number | null;
  medianDensityInherited: number | null;
}

const fraction = (hits: number, total: number) => (total > 0 ? hits / total : null);

/** A cosine/correlation threshold: a finite number in [-1, 1]. */
export function assertThreshold(t: number, arg = "threshold"): number {
  if (!Number.isFinite(t) || t < -1 || t > 1) throw badInput(`${arg} must be a number between -1 and 1, got ${t}`, { arg });
  return t;
}

export class StatsService {
  constructor(private readonly repo: StatsRepository) {}

  async baseStats(saeIds: readonly string[]): Promise<Map<string, SaeBaseStats>> {
    const rows = await this.repo.baseStats(saeIds);
    return new Map(rows.map((r: BaseStatsRow) => [r.saeId, { deadFraction: fraction(r.dead, r.known), medianDensity: r.medianDensity }]));
  }

  /** Fraction of features whose decoder has |cosine| >= threshold with a single neuron (basis direction). */
  async neuronAlignedFractions(saeIds: readonly string[], threshold: number): Promise<Map<string, number | null>> {
    assertThreshold(threshold);
    return toFractions(await this.repo.neuronAligned(saeIds, threshold));
  }

  /** Fraction of features whose most positively correlated neuron has Pearson r >= threshold. */
  async neuronCorrelatedFractions(saeIds: readonly string[], threshold: number): Promise<Map<string, number | null>> {
    assertThreshold(threshold);
    return toFractions(await this.repo.neuronCorrelated(saeIds, threshold));
  }

  /** log10(density) histograms per SAE; null for an SAE without any known density. */
  async densityHistograms(saeIds: readonly string[], bins: number): Promise<Map<string, DensityHistogram | null>> {
    assertBins(bins);
    const bySae = new Map<string, DensityBucketRow[]>();
    for (const r of await this.repo.densityBuckets(saeIds, bins)) bySae.set(r.saeId, [...(bySae.get(r.saeId) ?? []), r]);
    return new Map(saeIds.map((id) => [id, toHistogram(bySae.get(id) ?? [], bins)]));
  }

  /** Per family, one row per SAE (smallest first). */
  async scaling(familyIds: readonly string[]): Promise<Map<string, FamilyScalingRow[]>> {
    const out = new Map<string, FamilyScalingRow[]>(familyIds.map((id) => [id, []]));
    for (const r of await this.repo.scaling(familyIds)) out.get(r.familyId)?.push(toScalingRow(r));
    return out;
  }
}

function toHistogram(rows: DensityBucketRow[], bins: number): DensityHistogram | null {
  const first = rows[0];
  if (!first) return null;
  const { lo, hi, dead, unknown } = first;
  if (lo === null || hi === null) return dead > 0 ? { bins: [], deadCount: dead, unknownCount: unknown } : null;
  const counts = new Map(rows.map((r) => [r.bucket, r.n ?? 0]));
  // Every feature at one density: a single bin of zero width holds them all.
  if (hi === lo) return { bins: [{ log10Min: lo, log10Max: hi, count: counts.get(1) ?? 0 }], deadCount: dead, unknownCount: unknown };
  const width = (hi - lo) / bins;
  return {
    bins: Array.from({ length: bins }, (_, i) => ({
      log10Min: lo + i * width,
      log10Max: i === bins - 1 ? hi : lo + (i + 1) * width,
      count: counts.get(i + 1) ?? 0,
    })),
    deadCount: dead,
    unknownCount: unknown,
  };
}

function toFractions(rows: FractionRow[]): Map<string, number | null> {
  return new Map(rows.map((r) => [r.saeId, fraction(r.hits, r.total)]));
}

function toScalingRow(r: ScalingRow): FamilyScalingRow {
  const { familyId: _f, known, dead, ...rest } = r;
  return { ...rest, deadFraction: fraction(dead, known) };
}
