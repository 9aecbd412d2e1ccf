// The cost limit's stored sizes stay known for LOOK_TTL_MS (1 s) while this process writes nothing
// (src/modules/sizes). Tests that count a query's statements look the sizes up first; on a loaded
// machine a second can pass before the query runs, and the look would then be repeated. Such tests
// let their app trust the sizes for a minute: what they check is that without a write the cost
// limit runs no statement, not how long the TTL is.
import type { App } from "../../src/app.ts";

export function trustStoredSizes(app: App, ttlMs = 60_000): void {
  (app.services.sizes as unknown as { fresh: { ttlMs: number } | null }).fresh!.ttlMs = ttlMs;
}
