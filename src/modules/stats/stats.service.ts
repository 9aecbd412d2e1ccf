// Rules for SAE statistics: what "dead", "aligned" and "correlated" mean, threshold
// checks, and turning counts into fractions (null when nothing is known).
import { badInput } from "../../errors.ts";
import type { BaseStatsRow, FractionRow, ScalingRow, StatsRepository } from "./stats.repository.ts";

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

  /** Per family, one row per SAE (smallest first). */
  async scaling(familyIds: readonly string[]): Promise<Map<string, FamilyScalingRow[]>> {
    const out = new Map<string, FamilyScalingRow[]>(familyIds.map((id) => [id, []]));
    for (const r of await this.repo.scaling(familyIds)) out.get(r.familyId)?.push(toScalingRow(r));
    return out;
  }
}

function toFractions(rows: FractionRow[]): Map<string, number | null> {
  return new Map(rows.map((r) => [r.saeId, fraction(r.hits, r.total)]));
}

function toScalingRow(r: ScalingRow): FamilyScalingRow {
  const { familyId: _f, known, dead, ...rest } = r;
  return { ...rest, deadFraction: fraction(dead, known) };
}
