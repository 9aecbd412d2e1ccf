// A small family for the explorer's browser test: two SAE sizes (16 and 32 features) whose
// larger size holds a near copy of every smaller feature, so each feature of the larger SAE
// has a lineage parent; each feature fires on one known word and carries a label, logits and
// histograms, as an imported dashboard would. Lineage and the UMAP map are built for real.
import type { App } from "../../src/app.ts";
import { examplesFor, WORDS } from "./autointerp-seed.ts";
import { rng } from "./feature-seed.ts";

export const EXPLORER_FAMILY = "explore";
export const SMALL = `${EXPLORER_FAMILY}/16`;
export const LARGE = `${EXPLORER_FAMILY}/32`;
const D = 12;

export async function seedExplorerFamily(app: App): Promise<void> {
  const r = rng(7);
  const g = () => Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
  const small = Array.from({ length: 16 }, () => Array.from({ length: D }, g));
  const large = small.flatMap((v) => [v.map((x) => x + 0.25 * g()), v.map((x) => x + 0.9 * g())]);
  for (const [saeId, rows] of [[SMALL, small], [LARGE, large]] as const) {
    const n = rows.length;
    const word = (i: number) => WORDS[(saeId === SMALL ? i : Math.floor(i / 2)) % WORDS.length];
    await app.services.ingest.ingestSae(
      {
        model: { id: "explore-model" },
        family: { id: EXPLORER_FAMILY },
        sae: { id: saeId, architecture: "standard", dIn: D, dSae: n },
        source: { format: "test", path: saeId },
        contentHash: `explorer:${saeId}`,
      },
      async (sink) => {
        await sink.features(
          rows.map((decoder, index) => ({
            index,
            decoder,
            density: 0.02 / (1 + index),
            maxActivation: 8,
            dashboard: {
              posLogits: [{ token: ` ${word(index)}s`, value: 1.5 }, { token: ` ${word(index)}`, value: 1.2 }],
              negLogits: [{ token: " the", value: -0.8 }],
              freqHistogram: { values: [0.5, 1.5, 2.5, 3.5], heights: [9, 5, 3, 1] },
              logitsHistogram: { values: [-1, 0, 1], heights: [2, 10, 3] },
            },
          })),
        );
        // Every third example from "code", the others from "prose" (Feature.sources on the feature page).
        await sink.activations(rows.flatMap((_, index) => examplesFor(index, word(index)).map((e, j) => ({ index, ...e, source: j % 3 === 0 ? "code" : "prose" }))));
        await sink.explanations(rows.map((_, index) => ({ index, text: `the word ${word(index)}`, method: "imported" })));
      },
    );
  }
  await app.services.geometry.lineage.build(EXPLORER_FAMILY, {});
  for (const saeId of [SMALL, LARGE]) await app.services.umap.build(saeId, { nNeighbors: 5 });
}
