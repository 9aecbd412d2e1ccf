// The one way a raw result row becomes a typed value: a parser checks it. Zod object
// schemas are parsers; so is a hand-written mapper for a per-row hot path. Nothing
// else in src/ casts a row to a type.
import { z } from "zod";

/** Anything that turns one unknown row into a T or throws (a zod schema, or a typed mapper). */
export interface RowParser<T> {
  parse(row: unknown): T;
}

/** Every row of a raw result through parser. */
export function parseRows<T>(parser: RowParser<T>, rows: unknown): T[] {
  if (!Array.isArray(rows)) throw new Error("invariant failed: a statement returned no row array");
  const out = new Array<T>(rows.length);
  for (let i = 0; i < rows.length; i++) out[i] = parser.parse(rows[i]);
  return out;
}

/** The first row, or null when there is none. */
export function firstRow<T>(parser: RowParser<T>, rows: unknown): T | null {
  if (!Array.isArray(rows)) throw new Error("invariant failed: a statement returned no row array");
  return rows.length ? parser.parse(rows[0]) : null;
}

/** The single row of a statement that always returns one (an aggregate, RETURNING of a known row). */
export function onlyRow<T>(parser: RowParser<T>, rows: unknown): T {
  const row = firstRow(parser, rows);
  if (row === null) throw new Error("invariant failed: a statement that returns one row returned none");
  return row;
}

/** A non-negative integer the driver may return as a string or bigint (int8 columns). */
export const int8 = z.union([z.number(), z.string(), z.bigint()]).transform((v, ctx) => {
  const n = Number(v);
  if (!Number.isSafeInteger(n)) ctx.addIssue({ code: "custom", message: `not a safe integer: ${String(v)}` });
  return n;
});

// Array columns, checked in one loop: per-element schemas (z.array(z.number())) cost several
// times more on the per-row hot paths (neighbour lists, activation examples, exports).
const every = (pred: (x: unknown) => boolean) => (v: unknown) => {
  if (!Array.isArray(v)) return false;
  for (let i = 0; i < v.length; i++) if (!pred(v[i])) return false;
  return true;
};
export const numberArray = z.custom<number[]>(every((x) => typeof x === "number"), "not an array of numbers");
export const intArray = z.custom<number[]>(every(Number.isInteger), "not an array of integers");
export const stringArray = z.custom<string[]>(every((x) => typeof x === "string"), "not an array of strings");

// Shapes many statements share.
export const CountRow = z.object({ n: z.number().int() });
export const IdxRow = z.object({ idx: z.number().int() });
export const IdRow = z.object({ id: z.string() });
export const ExistsRow = z.object({});
