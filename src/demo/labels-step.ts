// The demo's offline-labels step: token-pattern/v1 labels for every alive feature of
// each demo SAE, so labels and concept search work with no LLM key. Idempotent: an SAE
// that already has them is skipped (its activations do not change after ingest).
import type { StepInput } from "./demo.types.ts";
import type { AutoInterpService } from "../modules/autointerp/autointerp.service.ts";

/** Structurally a DemoStep. */
export const tokenPatternLabelsStep = {
  name: "offline labels",
  async run(ctx: StepInput<{ autointerp: AutoInterpService }>): Promise<string> {
    const parts: string[] = [];
    for (const sae of ctx.saes) {
      const existing = await ctx.services.autointerp.tokenPatternLabelCount(sae.id);
      if (existing > 0) {
        parts.push(`${sae.id}: ${existing} (kept)`);
        continue;
      }
      const r = await ctx.services.autointerp.writeTokenPatternLabels(sae.id);
      parts.push(`${sae.id}: ${r.labelled} of ${r.alive} alive features`);
    }
    return `token-pattern/v1 labels: ${parts.join("; ")}`;
  },
};
