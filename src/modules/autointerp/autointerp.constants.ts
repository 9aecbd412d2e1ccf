// Values the CLI shows in its help and summaries, kept apart from the pipeline so that
// `monoscope explain --help` loads neither the LLM client nor the database.
export const SCORE_KINDS = ["detection", "fuzzing", "simulation"] as const;
export type ScoreKind = (typeof SCORE_KINDS)[number];

export function formatUsd(usd: number): string {
  return usd < 0.01 && usd > 0 ? `$${usd.toFixed(5)}` : `$${usd.toFixed(4)}`;
}
