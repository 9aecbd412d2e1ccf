// Synthetic SAE-like decoders (scripts/bench/generator.ts) written through the ingest service,
// so the post-ingest hooks (neighbour lists, lineage) run as they do for real imports; plus
// brute-force references the geometry tests compare with.
import type { App } from "../../src/app.ts";
import { generateDecoders, planDecoders, unitRows } from "../../scripts/bench/generator.ts";

export interface SeededSae {
  saeId: string;
  n: number;
  d: number;
  /** Unit rows (n × d). */
  unit: Float32Array;
}

export async function ingestDecoders(
  app: App,
  o: { modelId: string; saeId: string; familyId?: string | null; d: number; raw: Float32Array; n: number },
): Promise<SeededSae> {
  const { d, n, raw } = o;
  await app.services.ingest.ingestSae(
    {
      model: { id: o.modelId },
      family: o.familyId ? { id: o.familyId } : null,
      sae: { id: o.saeId, architecture: "standard", dIn: d, dSae: n },
      source: { format: "native", path: `synthetic:${o.saeId}` },
      contentHash: `synthetic:${o.saeId}:${n}x${d}`,
    },
    async (sink) => {
      for (let s = 0; s < n; s += 1000) {
        const rows = [];
        for (let i = s; i < Math.min(n, s + 1000); i++) rows.push({ index: i, decoder: raw.subarray(i * d, (i + 1) * d) });
        await sink.features(rows);
      }
    },
  );
  return { saeId: o.saeId, n, d, unit: unitRows(raw, n, d).unit };
}

export async function ingestSaeLike(app: App, o: { modelId: string; saeId: string; familyId?: string; n: number; d: number; seed: number }): Promise<SeededSae> {
  const raw = generateDecoders(planDecoders({ n: o.n, d: o.d, seed: o.seed }));
  return ingestDecoders(app, { ...o, raw });
}

export interface Hit {
  saeId: string;
  index: number;
  cosine: number;
}

/** Exact top-k by cosine over the given SAEs (unit rows), excluding one feature. */
export function bruteForce(q: Float32Array, saes: SeededSae[], k: number, exclude?: { saeId: string; index: number }, minCosine = -Infinity): Hit[] {
  const all: Hit[] = [];
  let qn = 0;
  for (const x of q) qn += x * x;
  qn = Math.sqrt(qn);
  for (const s of saes) {
    for (let i = 0; i < s.n; i++) {
      if (exclude && exclude.saeId === s.saeId && exclude.index === i) continue;
      let dot = 0;
      for (let j = 0; j < s.d; j++) dot += q[j] * s.unit[i * s.d + j];
      const cosine = dot / qn;
      if (cosine >= minCosine) all.push({ saeId: s.saeId, index: i, cosine });
    }
  }
  return all.sort((a, b) => b.cosine - a.cosine).slice(0, k);
}

export const row = (s: SeededSae, i: number) => s.unit.subarray(i * s.d, (i + 1) * s.d);

/** |got ∩ want| / |want| over feature keys. */
export function recall(got: { saeId: string; index: number }[], want: { saeId: string; index: number }[]): number {
  if (want.length === 0) return got.length === 0 ? 1 : 0;
  const g = new Set(got.map((h) => `${h.saeId}:${h.index}`));
  return want.filter((h) => g.has(`${h.saeId}:${h.index}`)).length / want.length;
}
