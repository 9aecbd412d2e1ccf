// A small SAE whose ingest writes rows into its detached tables before it ends: enough
// explanations to flush (1000 per batch), which sends the feature rows ahead of them.
import type { IngestSink, SaeArtifact } from "../../src/ingest/ingest.types.ts";

export const DETACHED_SAE = { features: 1500, activations: 3000, explanations: 1200, dIn: 8 };

export function detachedArtifact(id: string, hash = `h-${id}`): SaeArtifact {
  return {
    model: { id: "detached-model" },
    sae: { id, architecture: "standard", dIn: DETACHED_SAE.dIn, dSae: DETACHED_SAE.features },
    source: { format: "test", path: `/tmp/${id}` },
    contentHash: hash,
  };
}

/**
 * Sends the SAE's rows; midway (features and the first explanations written, activations not yet)
 * awaits midway(), and again between activation batches when between is given.
 */
export async function produceDetached(sink: IngestSink, midway: () => Promise<void>, between?: () => Promise<void>): Promise<void> {
  const { features, activations, explanations, dIn } = DETACHED_SAE;
  await sink.features(
    Array.from({ length: features }, (_, index) => ({
      index,
      decoder: Array.from({ length: dIn }, (_, j) => Math.sin(index * 7 + j) + (j === index % dIn ? 2 : 0)),
      density: (index % 100) / 1000,
      maxActivation: index % 13,
    })),
  );
  await sink.explanations(Array.from({ length: explanations }, (_, index) => ({ index, text: `label ${index}` })));
  await midway();
  const per = activations / 3;
  for (let b = 0; b < 3; b++) {
    await sink.activations(
      Array.from({ length: per }, (_, k) => {
        const index = (b * per + k) % features;
        return { index, tokens: ["a", " b", " c"], values: [0, (k % 7) + 1, 0.5] };
      }),
    );
    await between?.();
  }
}
