// Opaque, stable page cursors: the sort key of the last row seen (keyset pagination),
// tagged with the ordering it belongs to so a cursor cannot be replayed under another.
import { z } from "zod";
import { badInput } from "../../errors.ts";
import type { FeatureOrder, FeatureRow, PageAfter } from "./feature.repository.ts";

const CursorBody = z.object({ o: z.enum(["INDEX", "DENSITY_DESC", "MAX_ACTIVATION_DESC"]), v: z.number().nullable(), i: z.number().int().min(0) });

export function sortValue(order: FeatureOrder, row: Pick<FeatureRow, "density" | "maxActivation">): number | null {
  if (order === "DENSITY_DESC") return row.density;
  if (order === "MAX_ACTIVATION_DESC") return row.maxActivation;
  return null;
}

export function encodeCursor(order: FeatureOrder, row: Pick<FeatureRow, "index" | "density" | "maxActivation">): string {
  return Buffer.from(JSON.stringify({ o: order, v: sortValue(order, row), i: row.index })).toString("base64url");
}

export function decodeCursor(order: FeatureOrder, cursor: string): PageAfter {
  let body: z.infer<typeof CursorBody>;
  try {
    body = CursorBody.parse(JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")));
  } catch {
    throw badInput(`after: not a cursor returned by this API (${JSON.stringify(cursor.slice(0, 40))})`);
  }
  if (body.o !== order) throw badInput(`after: this cursor belongs to orderBy ${body.o}, not ${order}`);
  return { value: body.v, index: body.i };
}
