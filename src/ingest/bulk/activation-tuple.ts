// One activation row as a binary COPY tuple for the activation table, after the checks the
// ingest session applies to every row (index range, arrays, finite values, kind, bins).
// Shared by the session (main thread) and the native-JSONL worker (bulk/encode-worker.ts),
// so both produce the same bytes and the same error messages.
import { fileError } from "../../errors.ts";
import type { ActivationRow } from "../ingest.types.ts";
import type { CopyBuffer } from "./copy-binary.ts";

/** Byte offset of the ordinal's int32 value from the start of a tuple written by encodeActivationTuple. */
export function ordinalOffset(saeId: string): number {
  // int16 field count, text sae_id (int32 length + bytes), int4 feature_idx (8), int32 length of the ordinal
  return 2 + 4 + Buffer.byteLength(saeId, "utf8") + 8 + 4;
}

export function checkFeatureIndex(index: number, dSae: number, file: string, what: string): void {
  if (!Number.isInteger(index) || index < 0 || index >= dSae) {
    throw fileError(file, `${what}.index`, `${JSON.stringify(index)} is not a feature index of this SAE (0..${dSae - 1})`);
  }
}

/**
 * Checks row and appends its tuple to b with the given ordinal (workers write 0 and the
 * session patches the real one in at ordinalOffset). file: where errors point; prefix: put
 * before field names (empty when file names the record itself, e.g. file:line).
 */
export function encodeActivationTuple(b: CopyBuffer, saeId: string, dSae: number, row: ActivationRow, file: string, prefix: string, ordinal: number): void {
  checkFeatureIndex(row.index, dSae, file, "activation");
  const where = prefix;
  const { tokens, values } = row;
  if (!Array.isArray(tokens) || !Array.isArray(values)) throw fileError(file, `${where}tokens`, "tokens and values must be arrays");
  const image = row.image ?? null;
  if (image) {
    // An image example: no tokens, one value per patch of the grid.
    if (tokens.length !== 0) throw fileError(file, `${where}tokens`, "must be empty ([]) for an image example");
    const patches = image.patchRows * image.patchCols;
    if (values.length !== patches) {
      throw fileError(file, `${where}values`, `has ${values.length} values for a ${image.patchRows} x ${image.patchCols} patch grid (${patches} patches)`);
    }
  } else if (tokens.length !== values.length) {
    throw fileError(file, `${where}values`, `has ${values.length} values for ${tokens.length} tokens`);
  }
  if (values.length === 0) throw fileError(file, `${where}tokens`, "is empty");
  let max = -Infinity;
  let at = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (typeof v !== "number" || !Number.isFinite(v)) throw fileError(file, `${where}values[${i}]`, `${JSON.stringify(v) ?? String(v)} is not a finite number`);
    if (v > max) {
      max = v;
      at = i;
    }
  }
  for (let i = 0; i < tokens.length; i++) {
    if (typeof tokens[i] !== "string") throw fileError(file, `${where}tokens[${i}]`, "is not a string");
  }
  const kind = row.kind ?? "top";
  if (kind !== "top" && kind !== "quantile") throw fileError(file, `${where}kind`, `${JSON.stringify(kind)} is not "top" or "quantile"`);
  const { binMin, binMax } = row;
  if (binMin != null && !Number.isFinite(binMin)) throw fileError(file, `${where}binMin`, `${String(binMin)} is not a finite number`);
  if (binMax != null && !Number.isFinite(binMax)) throw fileError(file, `${where}binMax`, `${String(binMax)} is not a finite number`);
  const raw = row.rawTokens ?? null;
  if (raw !== null && (!Array.isArray(raw) || raw.length !== tokens.length || raw.some((t) => typeof t !== "string"))) {
    throw fileError(file, `${where}rawTokens`, `must be ${tokens.length} strings, one per token`);
  }
  b.tuple(14);
  b.text(saeId);
  b.int4(row.index);
  b.int4(ordinal);
  b.textArray(tokens);
  b.float4Array(values);
  b.float4(max);
  b.int4(at);
  b.text(kind);
  b.float8(binMin ?? null);
  b.float8(binMax ?? null);
  b.text(row.source ?? null);
  b.text(image ? "" : (row.text ?? tokens.join("")));
  b.textArray(raw);
  b.jsonb(row.sourceFields ?? null);
}
