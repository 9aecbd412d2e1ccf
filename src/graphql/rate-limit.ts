// Per-client rate limit: a token bucket per client id holding up to one minute's
// allowance, refilled continuously. In memory, per server process.
export interface RateDecision {
  ok: boolean;
  /** Seconds until one request is allowed again (when refused). */
  retryAfter: number;
  remaining: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly perMs: number;

  /** perMinute 0 disables the limit. */
  constructor(
    private readonly perMinute: number,
    private readonly now: () => number = Date.now,
  ) {
    this.perMs = perMinute / 60_000;
  }

  get enabled(): boolean {
    return this.perMinute > 0;
  }

  take(clientId: string): RateDecision {
    if (!this.enabled) return { ok: true, retryAfter: 0, remaining: Infinity };
    const t = this.now();
    const b = this.buckets.get(clientId) ?? { tokens: this.perMinute, at: t };
    b.tokens = Math.min(this.perMinute, b.tokens + (t - b.at) * this.perMs);
    b.at = t;
    this.buckets.set(clientId, b);
    if (this.buckets.size > 10_000) this.prune(t);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { ok: true, retryAfter: 0, remaining: Math.floor(b.tokens) };
    }
    return { ok: false, retryAfter: Math.ceil((1 - b.tokens) / this.perMs / 1000), remaining: 0 };
  }

  /** Forgets clients whose bucket has refilled completely (they are as good as new). */
  private prune(t: number) {
    for (const [id, b] of this.buckets) if (b.tokens + (t - b.at) * this.perMs >= this.perMinute) this.buckets.delete(id);
  }
}
