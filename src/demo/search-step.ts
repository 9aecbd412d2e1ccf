// The demo's concept-search step: search documents and offline label vectors for each
// demo SAE, so `monoscope search` and searchConcepts work as soon as the demo serves.
// Labels normally trigger this themselves (onLabelsChanged); the step catches a data dir
// set up before search existed or without the word table. Idempotent: an indexed SAE is kept.
import type { StepInput } from "./demo.types.ts";
import type { SearchService } from "../modules/search/search.service.ts";

/** Structurally a DemoStep. */
export const conceptSearchStep = {
  name: "concept search",
  async run(ctx: StepInput<{ search: SearchService }>): Promise<string> {
    const search = ctx.services.search;
    const parts: string[] = [];
    for (const sae of ctx.saes) {
      if (await search.isIndexed(sae.id)) {
        parts.push(`${sae.id} (kept)`);
        continue;
      }
      const r = await search.indexSae(sae.id);
      parts.push(`${sae.id}: ${r.embedded} label vectors, ${r.documents} documents`);
    }
    const how = search.offlineAvailable() ? "offline embedder glove-wordnet/v1" : "words only (no word-vector table)";
    return `search index (${how}): ${parts.join("; ")}`;
  },
};
