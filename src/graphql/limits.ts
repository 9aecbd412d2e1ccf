// Per-argument limits every resolver shares: a `k` (result count) and a page size
// (`first`) must be positive integers within the server's configured maxima
// (MONOSCOPE_MAX_K, MONOSCOPE_MAX_PAGE_SIZE). Query shape limits (depth, aliases,
// cost) are enforced before execution by graphql-armor in apollo.ts.
import { badInput } from "../errors.ts";
import type { GraphQLContext, Limits } from "./context.ts";

const limitsOf = (ctx: Pick<GraphQLContext, "limits"> | Limits): Limits => ("limits" in ctx ? ctx.limits : ctx);

/** k in 1..maxK, else BAD_USER_INPUT naming the argument. */
export function assertK(ctx: Pick<GraphQLContext, "limits"> | Limits, k: number, arg = "k"): number {
  const max = limitsOf(ctx).maxK;
  if (!Number.isInteger(k) || k < 1 || k > max) throw badInput(`${arg} must be between 1 and ${max}, got ${k}`, { arg, max });
  return k;
}

/** first in 0..maxPageSize, else BAD_USER_INPUT naming the argument. */
export function assertPageSize(ctx: Pick<GraphQLContext, "limits"> | Limits, first: number, arg = "first"): number {
  const max = limitsOf(ctx).maxPageSize;
  if (!Number.isInteger(first) || first < 0 || first > max) throw badInput(`${arg} must be between 0 and ${max}, got ${first}`, { arg, max });
  return first;
}
