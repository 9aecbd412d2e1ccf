// One feature row as a binary COPY tuple (the column order of COPY_SQL.feature): the decoder
// unit-normalised to halfvec with its norm, the encoder column, scalars checked. Shared by the
// ingest session and the encoder worker threads, so both reject bad rows with the same words.
import { fileError } from "../../errors.ts";
import type { FeatureRow } from "../ingest.types.ts";
import type { CopyBuffer } from "./copy-binary.ts";

export interface TupleContext {
  saeId: string;
  dIn: number;
  /** Names for error messages, e.g. W_dec / W_enc. */
  decoderField: string;
  encoderField: string;
}

/** Appends the tuple; returns 1 when it carried a decoder row. Throws "file: field: problem". */
export function encodeFeatureTuple(b: CopyBuffer, ctx: TupleContext, row: FeatureRow, file: string): number {
const { dIn } = ctx;
  let decoders = 0;
  let decoderNorm: number | null = null;
  let neuronIndex = row.neuronIndex ?? null;
  let neuronCosine = row.neuronCosine ?? null;
  const decField = `${ctx.decoderField}[${row.index}]`;
  b.tuple(13);
  b.text(ctx.saeId);
  b.int4(row.index);
  if (row.decoder) {
    const d = row.decoder;
    if (d.length !== dIn) throw fileError(file, decField, `has ${d.length} values, expected d_in = ${dIn}`);
    // Sum of squares and the largest magnitude without a data-dependent branch per element
    // (Math.max compiles to a float max), then the first position of that magnitude.
    let ss = 0;
    let maxAbs = 0;
    for (let j = 0; j < dIn; j++) {
      const x = d[j]!;
      ss += x * x;
      maxAbs = Math.max(maxAbs, Math.abs(x));
    }
    if (!Number.isFinite(ss)) throw fileError(file, decField, nonFinite(d));
    let best = 0;
    while (best < dIn - 1 && Math.abs(d[best]!) !== maxAbs) best++;
    const norm = Math.sqrt(ss);
    decoderNorm = row.decoderNorm ?? norm;
    if (!Number.isFinite(decoderNorm) || decoderNorm < 0) throw fileError(file, `${decField}.decoder_norm`, "is not a finite number >= 0");
    if (decoderNorm > 0 && norm > 0) {
      b.halfvec(d, 1 / decoderNorm);
      if (neuronIndex === null) {
        neuronIndex = best;
        neuronCosine = d[best]! / norm;
      }
    } else {
      b.null(); // a zero row has no direction; decoder_norm = 0 keeps the signal
      decoderNorm = 0;
    }
    decoders = 1;
  } else {
    b.null();
  }
  b.float4(decoderNorm);
  if (row.encoder) {
    const e = row.encoder;
    const encField = `${ctx.encoderField}[${row.index}]`;
    if (e.length !== dIn) throw fileError(file, encField, `has ${e.length} values, expected d_in = ${dIn}`);
    let ss = 0;
    for (let j = 0; j < e.length; j++) ss += e[j]! * e[j]!;
    if (!Number.isFinite(ss)) throw fileError(file, encField, nonFinite(e));
    b.vector(e);
  } else {
    b.null();
  }
  const scalar = (name: string, v: number | null | undefined) => {
    if (v === null || v === undefined) return null;
    if (typeof v !== "number" || !Number.isFinite(v)) throw fileError(file, `${name}[${row.index}]`, `${String(v)} is not a finite number`);
    return v;
  };
  const int = (name: string, v: number | null | undefined, max: number) => {
    if (v === null || v === undefined) return null;
    if (!Number.isInteger(v) || v < 0 || v >= max) throw fileError(file, `${name}[${row.index}]`, `${String(v)} is not an index in 0..${max - 1}`);
    return v;
  };
  b.float4(scalar("b_enc", row.bEnc));
  b.float4(scalar("threshold", row.threshold));
  const density = scalar("density", row.density);
  if (density !== null && density < 0) throw fileError(file, `density[${row.index}]`, `${density} is negative`);
  b.float8(density);
  b.float4(scalar("max_activation", row.maxActivation));
  b.int4(int("neuron_index", neuronIndex, dIn));
  b.float4(scalar("neuron_cosine", neuronCosine));
  b.int4(int("neuron_corr_index", row.neuronCorrIndex, Number.MAX_SAFE_INTEGER));
  b.float4(scalar("neuron_corr_pearson", row.neuronCorrPearson));
return decoders;
}

function nonFinite(v: ArrayLike<number>): string {
  for (let j = 0; j < v.length; j++) {
    const x = v[j]!;
    if (!Number.isFinite(x)) return `value ${j} is ${Number.isNaN(x) ? "NaN" : x > 0 ? "Infinity" : "-Infinity"}`;
  }
  return "values overflow";
}
