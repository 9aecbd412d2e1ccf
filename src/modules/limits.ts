// The per-argument limits of every query, checked by the services (one place for every
// caller: GraphQL, the CLI, scripts): a result count `k` and a page size `first` must be
// integers within the server's configured maxima (MONOSCOPE_MAX_K, MONOSCOPE_MAX_PAGE_SIZE).
import { badInput } from "../errors.ts";

export interface RequestLimits {
  readonly maxK: number;
  readonly maxPageSize: number;
}

/** The configuration's defaults, for services built without a config (tests, scripts). */
export const DEFAULT_LIMITS: RequestLimits = Object.freeze({ maxK: 1000, maxPageSize: 1000 });

/** k in 1..maxK, else BAD_USER_INPUT naming the argument. */
export function checkK(limits: Pick<RequestLimits, "maxK">, k: number, arg = "k"): number {
  if (!Number.isInteger(k) || k < 1 || k > limits.maxK) throw badInput(`${arg} must be between 1 and ${limits.maxK}, got ${k}`, { arg, max: limits.maxK });
  return k;
}

/** first in 0..maxPageSize, else BAD_USER_INPUT naming the argument. */
export function checkPageSize(limits: Pick<RequestLimits, "maxPageSize">, first: number, arg = "first"): number {
  if (!Number.isInteger(first) || first < 0 || first > limits.maxPageSize) {
    throw badInput(`${arg} must be between 0 and ${limits.maxPageSize}, got ${first}`, { arg, max: limits.maxPageSize });
  }
  return first;
}
