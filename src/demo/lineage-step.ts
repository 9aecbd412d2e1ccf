// The demo's lineage step: the split lineage of the demo family. Ingest's hook normally builds
// it after each size; this catches a data dir loaded before lineage existed or left stale.
// Idempotent: a current build is kept.
import type { StepInput } from "./demo.types.ts";
import type { GeometryService } from "../modules/geometry/index.ts";

/** Structurally a DemoStep. */
export const lineageStep = {
  name: "lineage",
  async run(ctx: StepInput<{ geometry: GeometryService }>): Promise<string> {
    const geometry = ctx.services.geometry;
    const families = new Set<string>();
    for (const s of await geometry.saes(ctx.saes.map((s) => s.id))) if (s.familyId) families.add(s.familyId);
    const parts: string[] = [];
    for (const family of families) {
      const r = await geometry.lineage.ensureBuilt(family);
      if (!r) parts.push(`${family} (kept)`);
      else {
        const edges = r.pairs.reduce((n, p) => n + p.edges, 0);
        parts.push(`${family}: ${r.saes.length} sizes, ${edges} edges in ${r.seconds.toFixed(1)} s`);
      }
    }
    return `split lineage: ${parts.join("; ") || "no family"}`;
  },
};
