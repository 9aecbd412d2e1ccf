// The demo's maps step: a 2-D map for each demo SAE. Ingest normally builds them (post-ingest
// hook); this catches a data dir loaded before maps existed. Idempotent: a complete map is kept.
import type { StepInput } from "./demo.types.ts";
import type { UmapService } from "../modules/geometry/umap.service.ts";

/** Structurally a DemoStep. */
export const umapMapsStep = {
  name: "maps",
  async run(ctx: StepInput<{ umap: UmapService }>): Promise<string> {
    const parts: string[] = [];
    for (const sae of ctx.saes) {
      if ((await ctx.services.umap.unmapped(sae.id)) === 0) {
        parts.push(`${sae.id} (kept)`);
        continue;
      }
      const r = await ctx.services.umap.build(sae.id);
      parts.push(`${sae.id}: ${r.features} features in ${r.seconds.toFixed(1)} s`);
    }
    return `UMAP maps: ${parts.join("; ")}`;
  },
};
