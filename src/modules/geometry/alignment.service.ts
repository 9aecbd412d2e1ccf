// Decoder-neuron alignment: for a feature, the neuron (basis direction of the model's space)
// whose direction has the largest |cosine| with the feature's decoder row, and that cosine
// (signed). Because a basis direction is a unit vector, that cosine is simply the row's
// largest-magnitude component over the row's norm.
//
// Ingest computes it from the full-precision decoder as rows arrive; the post-ingest step
// below fills any feature that has a decoder but no alignment (rows written by other paths),
// from the stored direction, so every feature with a decoder has one.
// Not to be confused with activation correlation (feature.neuron_corr_pearson), the paper's
// measure: see SaeStats.neuronCorrelatedFraction and the README's "Neuron alignment".
import type { Logger } from "../../logger.ts";
import type { AlignmentRepository } from "./alignment.repository.ts";

export class AlignmentService {
  constructor(
    private readonly repo: AlignmentRepository,
    private readonly log: Logger,
  ) {}

  /** Computes the alignment of every feature with a decoder and none stored; returns how many. */
  async fillMissing(saeId: string): Promise<number> {
    if ((await this.repo.countMissing(saeId)) === 0) return 0;
    const t0 = performance.now();
    const n = await this.repo.fillMissing(saeId);
    this.log.info(`SAE ${saeId}: neuron alignment of ${n} features in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    return n;
  }

  async onSaeReady(saeId: string): Promise<void> {
    await this.fillMissing(saeId);
  }
}
