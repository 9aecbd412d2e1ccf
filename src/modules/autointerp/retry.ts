// The retry policy of the LLM client, as pure functions (unit-tested): exponential
// backoff with jitter, or the server's Retry-After when it gives one (capped).

export interface RetryPolicy {
  maxRetries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Longest Retry-After we will wait; a server asking for more gets this. */
  maxRetryAfterMs: number;
}

/** Delay before retry number `attempt` (0-based): Retry-After if given, else exponential backoff with jitter. */
export function retryDelayMs(attempt: number, retryAfterMs: number | null, policy: RetryPolicy, random: () => number): number {
  if (retryAfterMs !== null) return Math.min(Math.max(0, retryAfterMs), policy.maxRetryAfterMs);
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  // "Equal jitter": half fixed, half random, so retries spread but never fire at once.
  return ceiling / 2 + (random() * ceiling) / 2;
}

/** Parses retry-after-ms, or Retry-After as seconds or an HTTP date. */
export function parseRetryAfter(headers: { get(name: string): string | null } | undefined, now = Date.now()): number | null {
  if (!headers) return null;
  const ms = headers.get("retry-after-ms");
  if (ms !== null && ms.trim() !== "" && Number.isFinite(Number(ms))) return Number(ms);
  const ra = headers.get("retry-after");
  if (ra === null || ra.trim() === "") return null;
  if (Number.isFinite(Number(ra))) return Number(ra) * 1000;
  const t = Date.parse(ra);
  return Number.isNaN(t) ? null : Math.max(0, t - now);
}

