// GraphQL-over-HTTP compliance: the graphql-http package's server audits against the
// real server. Stock Apollo Server passes 54 of them; Monoscope's HTTP layer fixes the
// status codes for application/json clients and passes them all.
import { serverAudits } from "graphql-http";
import { afterAll, beforeAll, expect, it } from "vitest";
import { openTestApp, type TestApp } from "../helpers/backend.ts";
import { startTestServer, type TestServer } from "../helpers/http-server.ts";

let t: TestApp;
let s: TestServer;
beforeAll(async () => {
  t = await openTestApp();
  s = await startTestServer(t.app, { rateLimitPerMinute: 0 });
});
afterAll(async () => {
  await s?.close();
  await t?.close();
});

it("passes the graphql-http server audits", async () => {
  const audits = serverAudits({ url: s.graphql, fetchFn: fetch });
  const failed: string[] = [];
  let ok = 0;
  for (const audit of audits) {
    const r = await audit.fn();
    if (r.status === "ok") ok++;
    else failed.push(`${audit.id} [${r.status}] ${audit.name}: ${r.reason}`);
  }
  console.log(`[${t.db.backend}] graphql-http audits: ${ok}/${audits.length} ok${failed.length ? "\n" + failed.join("\n") : ""}`);
  expect(failed).toEqual([]);
  expect(ok).toBeGreaterThanOrEqual(57);
});
