// Checks on an artifact before anything is written, and the summary of a run.
import { assertSlug } from "../db/ddl.ts";
import { AppError, ErrorCode, badInput } from "../errors.ts";
import type { IngestSummary, SaeArtifact } from "./ingest.types.ts";

/** pgvector's limit for vector/halfvec columns. */
const MAX_DIM = 16000;

export function checkArtifact(a: SaeArtifact): void {
  assertSlug("model", a.model.id);
  assertSlug("sae", a.sae.id);
  // Feature.id is "<saeId>:<index>": a colon in the SAE id would make it ambiguous. Older ids
  // with one keep working everywhere else; only new SAEs are refused.
  if (a.sae.id.includes(":")) {
    throw badInput(`sae id ${JSON.stringify(a.sae.id)} is not valid: it must not contain ":" (feature ids are "<saeId>:<index>"); use / or - instead`, { field: "sae" });
  }
  if (a.family) assertSlug("family", a.family.id);
  const file = a.source.path;
  for (const [name, v] of [["d_in", a.sae.dIn], ["d_sae", a.sae.dSae]] as const) {
    if (!Number.isInteger(v) || v < 1) throw badInput(`${file}: ${name}: ${String(v)} is not a positive integer`);
  }
  if (a.sae.dIn > MAX_DIM) throw badInput(`${file}: d_in: ${a.sae.dIn} exceeds pgvector's ${MAX_DIM} dimensions`);
  if (a.sae.dSae > 2 ** 31 - 1) throw badInput(`${file}: d_sae: ${a.sae.dSae} is too large`);
  if (a.model.dModel !== undefined && (!Number.isInteger(a.model.dModel) || a.model.dModel < 1)) {
    throw badInput(`--model-dim: ${String(a.model.dModel)} is not a positive integer`);
  }
  if (a.sae.bDec && a.sae.bDec.length !== a.sae.dIn) {
    throw badInput(`${file}: b_dec: has ${a.sae.bDec.length} values, expected d_in = ${a.sae.dIn}`);
  }
  if (a.sae.bDec) {
    for (let i = 0; i < a.sae.bDec.length; i++) {
      if (!Number.isFinite(a.sae.bDec[i])) throw badInput(`${file}: b_dec: value ${i} is not a finite number`);
    }
  }
  if (!a.contentHash) throw new AppError(ErrorCode.INTERNAL_SERVER_ERROR, "invariant failed: artifact without a content hash");
}

export function summary(
  saeId: string,
  outcome: IngestSummary["outcome"],
  c: { features: number; activations: number; explanations: number },
  t0: number,
): IngestSummary {
  const seconds = (performance.now() - t0) / 1000;
  const rows = c.features + c.activations + c.explanations;
  return {
    saeId,
    outcome,
    features: c.features,
    activations: c.activations,
    explanations: c.explanations,
    seconds: Math.round(seconds * 1000) / 1000,
    rowsPerSecond: seconds > 0 ? Math.round(rows / seconds) : 0,
  };
}
