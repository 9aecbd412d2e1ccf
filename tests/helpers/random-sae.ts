// Seeds a small random SAE (decoders, encoders, biases, thresholds, densities) straight
// into the tables and returns the raw float arrays, so tests can compute brute-force
// references for geometry, statistics and encoding.
import type { App } from "../../src/app.ts";
import { toVectorLiteral } from "../../src/db/vector.ts";
import { rng } from "./feature-seed.ts";

export interface RandomSaeOptions {
  saeId: string;
  modelId?: string;
  familyId?: string | null;
  n: number;
  dIn: number;
  architecture?: "standard" | "topk" | "jumprelu" | string;
  k?: number | null;
  applyBDecToInput?: boolean;
  seed?: number;
  /** Store encoder columns, b_enc (and thresholds for jumprelu). Default true. */
  encoder?: boolean;
  /** Per-feature density (null = unknown); default: none stored. */
  density?: (i: number) => number | null;
  /** Per-feature imported best-neuron Pearson correlation; default: none stored. */
  neuronCorr?: (i: number) => number | null;
}

export interface RandomSae {
  saeId: string;
  dIn: number;
  /** Raw decoder rows (not unit norm). */
  decoder: Float64Array[];
  /** Encoder columns W_enc[:, i]. */
  encoder: Float64Array[];
  bEnc: number[];
  threshold: number[];
  bDec: number[];
  density: (number | null)[];
  neuronCorr: (number | null)[];
}

export async function seedRandomSae(app: App, o: RandomSaeOptions): Promise<RandomSae> {
  const p = app.db.prisma;
  const rand = rng(o.seed ?? 7);
  const gauss = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
  const modelId = o.modelId ?? "rand-model";
  const arch = o.architecture ?? "standard";
  const withEncoder = o.encoder ?? true;
  await p.$executeRaw`INSERT INTO model (id, name, d_model) VALUES (${modelId}, ${modelId}, ${o.dIn}) ON CONFLICT DO NOTHING`;
  if (o.familyId) {
    await p.$executeRaw`INSERT INTO sae_family (id, name, model_id) VALUES (${o.familyId}, ${o.familyId}, ${modelId}) ON CONFLICT DO NOTHING`;
  }
  const bDec = Array.from({ length: o.dIn }, () => Math.fround(gauss() * 0.1));
  await p.$executeRaw`INSERT INTO sae (id, name, model_id, family_id, architecture, d_in, d_sae, k, apply_b_dec_to_input, b_dec, status)
    VALUES (${o.saeId}, ${o.saeId}, ${modelId}, ${o.familyId ?? null}, ${arch}, ${o.dIn}, ${o.n}, ${o.k ?? null},
            ${o.applyBDecToInput ?? true}, ${bDec}::real[], 'ready')`;
  const out: RandomSae = { saeId: o.saeId, dIn: o.dIn, decoder: [], encoder: [], bEnc: [], threshold: [], bDec, density: [], neuronCorr: [] };
  const idx: number[] = [], dec: string[] = [], norm: number[] = [], enc: (string | null)[] = [];
  const bEnc: (number | null)[] = [], thr: (number | null)[] = [], dens: (number | null)[] = [], corr: (number | null)[] = [];
  for (let i = 0; i < o.n; i++) {
    // float32-exact values, so the stored encoder equals what the reference multiplies.
    const d = Float64Array.from({ length: o.dIn }, () => Math.fround(gauss()));
    const e = Float64Array.from({ length: o.dIn }, () => Math.fround(gauss() / Math.sqrt(o.dIn)));
    const b = Math.fround(gauss() * 0.2);
    const t = Math.fround(rand() * 0.5);
    out.decoder.push(d);
    out.encoder.push(e);
    out.bEnc.push(b);
    out.threshold.push(t);
    out.density.push(o.density ? o.density(i) : null);
    out.neuronCorr.push(o.neuronCorr ? o.neuronCorr(i) : null);
    const n = Math.hypot(...d);
    idx.push(i);
    dec.push(toVectorLiteral(Array.from(d, (x) => x / n)));
    norm.push(n);
    enc.push(withEncoder ? toVectorLiteral(e) : null);
    bEnc.push(withEncoder ? b : null);
    thr.push(withEncoder && arch === "jumprelu" ? t : null);
    dens.push(out.density[i]!);
    corr.push(out.neuronCorr[i]!);
  }
  await p.$executeRaw`
    INSERT INTO feature (sae_id, idx, decoder, decoder_norm, encoder, b_enc, threshold, density, neuron_corr_pearson)
    SELECT ${o.saeId}, t.idx, t.dec::halfvec, t.norm, t.enc::vector, t.benc, t.thr, t.dens, t.corr
    FROM unnest(${idx}::int[], ${dec}::text[], ${norm}::real[], ${enc}::text[], ${bEnc}::real[], ${thr}::real[],
                ${dens}::real[], ${corr}::real[]) AS t(idx, dec, norm, enc, benc, thr, dens, corr)`;
  return out;
}

/** Median as PostgreSQL's percentile_cont(0.5): the mean of the two middle values for an even count. */
export function median(values: number[]): number | null {
  if (!values.length) return null;
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
