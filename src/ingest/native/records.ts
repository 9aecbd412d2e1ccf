// One native JSONL record (import-activations.ts): shape checks and defaults, with errors
// naming file:line and the field. Used on the main thread and in the encoder workers.
import { fileError } from "../../errors.ts";
import type { ActivationRow, ExplanationRow, FeatureRow } from "../ingest.types.ts";
import { type ImageRef, parseImageRef } from "./image-record.ts";

export type NativeRecord =
  | { type: "activation"; row: ActivationRow; image?: ImageRef }
  | { type: "feature"; row: FeatureRow }
  | { type: "explanation"; row: ExplanationRow };

export function parseRecord(value: unknown, where: string): NativeRecord {
  if (!value || typeof value !== "object" || Array.isArray(value)) throw fileError(where, "record", "is not a JSON object");
  const o = value as Record<string, unknown>;
  const type = o.type ?? "activation";
  const index = o.index;
  if (typeof index !== "number" || !Number.isInteger(index) || index < 0) throw fileError(where, "index", `${JSON.stringify(index)} is not a feature index (an integer >= 0)`);
  const optNum = (field: string): number | null => {
    const v = o[field];
    if (v === undefined || v === null) return null;
    if (typeof v !== "number" || !Number.isFinite(v)) throw fileError(where, field, `${JSON.stringify(v)} is not a number`);
    return v;
  };
  const optStr = (field: string): string | null => {
    const v = o[field];
    if (v === undefined || v === null) return null;
    if (typeof v !== "string") throw fileError(where, field, `${JSON.stringify(v)} is not a string`);
    return v;
  };
  if (type === "feature") {
    const density = optNum("density");
    if (density !== null && (density < 0 || density > 1)) throw fileError(where, "density", `${density} is not a fraction in [0, 1]`);
    return { type, row: { index, density, maxActivation: optNum("maxActivation"), file: where } };
  }
  if (type === "explanation") {
    const text = optStr("text");
    if (!text?.trim()) throw fileError(where, "text", "is missing or empty");
    return {
      type,
      row: { index, text, method: optStr("method") ?? "imported", explainerModel: optStr("explainerModel"), promptVersion: optStr("promptVersion"), file: where },
    };
  }
  if (type !== "activation") throw fileError(where, "type", `${JSON.stringify(type)} is not "activation", "feature" or "explanation"`);
  const { values } = o;
  const image = o.image === undefined || o.image === null ? null : parseImageRef(o.image, where);
  // An image example has no tokens: [] or none at all.
  const tokens = image && o.tokens === undefined ? [] : o.tokens;
  if (!Array.isArray(tokens)) throw fileError(where, "tokens", "is missing or not an array of strings");
  if (!Array.isArray(values)) throw fileError(where, "values", "is missing or not an array of numbers");
  if (image) {
    if (tokens.length) throw fileError(where, "tokens", "must be empty ([]) for an image example");
    const patches = image.patchRows * image.patchCols;
    if (values.length !== patches) throw fileError(where, "values", `has ${values.length} values for a ${image.patchRows} x ${image.patchCols} patch grid (${patches} patches)`);
  } else {
    if (tokens.length !== values.length) throw fileError(where, "values", `has ${values.length} values for ${tokens.length} tokens`);
    if (tokens.length === 0) throw fileError(where, "tokens", "is empty");
  }
  // Element types and finiteness are checked by the ingest session as it encodes (one pass, not two).
  const kind = o.kind ?? "top";
  if (kind !== "top" && kind !== "quantile") throw fileError(where, "kind", `${JSON.stringify(kind)} is not "top" or "quantile"`);
  return {
    type: "activation",
    row: {
      index,
      tokens: tokens as string[],
      values: values as number[],
      kind,
      binMin: optNum("binMin"),
      binMax: optNum("binMax"),
      source: optStr("source"),
      file: where,
    },
    ...(image ? { image } : {}),
  };
}
