// Seeds a small ready SAE with N features (decoders, densities, umap, dashboards,
// activation examples) straight into the tables, for read-path tests.
import type { App } from "../../src/app.ts";
import { normalize, toVectorLiteral } from "../../src/db/vector.ts";

export interface SeedOptions {
  saeId?: string;
  modelId?: string;
  n: number;
  dIn?: number;
  /** Activation examples per feature: this many 'top' and this many 'quantile'. */
  examples?: number;
  status?: "ready" | "loading";
}

/** Deterministic pseudo-random numbers (tests must not depend on Math.random). */
export function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

export async function seedFeatures(app: App, o: SeedOptions): Promise<{ saeId: string }> {
  const saeId = o.saeId ?? "test-model/res/0";
  const modelId = o.modelId ?? "test-model";
  const dIn = o.dIn ?? 16;
  const ex = o.examples ?? 2;
  const p = app.db.prisma;
  const rand = rng(42);
  await p.$executeRaw`INSERT INTO model (id, name, d_model) VALUES (${modelId}, ${modelId}, ${dIn}) ON CONFLICT DO NOTHING`;
  await p.$executeRaw`INSERT INTO sae (id, name, model_id, architecture, d_in, d_sae, status)
    VALUES (${saeId}, ${saeId}, ${modelId}, 'standard', ${dIn}, ${o.n}, ${o.status ?? "ready"})`;
  const idx: number[] = [], dec: string[] = [], norm: number[] = [], dens: (number | null)[] = [], maxAct: number[] = [];
  const nIdx: number[] = [], nCos: number[] = [], ux: number[] = [], uy: number[] = [];
  for (let i = 0; i < o.n; i++) {
    const v = Array.from({ length: dIn }, () => rand() * 2 - 1);
    idx.push(i);
    dec.push(toVectorLiteral(normalize(v)));
    norm.push(1 + i / 100);
    // Every 5th feature shares a density with the previous one (ties), every 7th has none.
    dens.push(i % 7 === 6 ? null : Math.round((0.001 + (i % 5 === 4 ? i - 1 : i) * 0.0005) * 1e4) / 1e4);
    maxAct.push(10 - i * 0.01);
    nIdx.push(i % dIn);
    nCos.push(0.1 + (i % 10) / 20);
    ux.push(i * 0.5);
    uy.push(-i * 0.25);
  }
  await p.$executeRaw`
    INSERT INTO feature (sae_id, idx, decoder, decoder_norm, density, max_activation, neuron_index, neuron_cosine, umap_x, umap_y)
    SELECT ${saeId}, t.idx, t.dec::halfvec, t.norm, t.dens, t.maxact, t.nidx, t.ncos, t.ux, t.uy
    FROM unnest(${idx}::int[], ${dec}::text[], ${norm}::real[], ${dens}::real[], ${maxAct}::real[], ${nIdx}::int[], ${nCos}::real[], ${ux}::real[], ${uy}::real[])
      AS t(idx, dec, norm, dens, maxact, nidx, ncos, ux, uy)`;
  const pos = JSON.stringify({ tokens: [" Brigade", " brigade"], values: [3.75, 3.06] });
  const neg = JSON.stringify([{ token: "sequence", value: -0.7 }]);
  const hist = JSON.stringify({ values: [0.1, 0.2, 0.3], heights: [5, 3, 1] });
  await p.$executeRaw`
    INSERT INTO feature_dashboard (sae_id, idx, pos_logits, neg_logits, freq_histogram, logits_histogram)
    SELECT ${saeId}, i, ${pos}::jsonb, ${neg}::jsonb, ${hist}::jsonb, ${hist}::jsonb FROM generate_series(0, ${o.n - 1}) AS i`;
  if (ex > 0) {
    await p.$executeRaw`
      INSERT INTO activation (sae_id, feature_idx, ordinal, tokens, "values", max_value, max_token_index, kind, bin_min, bin_max, text)
      SELECT ${saeId}, f, o, ARRAY['a', 'b', 'c'], ARRAY[0, (10 - o)::real, 0]::real[], (10 - o)::real, 1,
             CASE WHEN o < ${ex} THEN 'top' ELSE 'quantile' END,
             CASE WHEN o < ${ex} THEN NULL ELSE (o - ${ex})::real END,
             CASE WHEN o < ${ex} THEN NULL ELSE (o - ${ex} + 1)::real END,
             'abc'
      FROM generate_series(0, ${o.n - 1}) AS f, generate_series(0, ${2 * ex - 1}) AS o`;
  }
  return { saeId };
}
