// The hostile-input campaign (issue 15): requests generated from schema.graphql with
// hostile values in every argument, sent over HTTP to a server with API keys and seeded
// data. Without a key every mutation is refused and no table changes; with the key nothing
// answers 5xx or INTERNAL_SERVER_ERROR; in both every answer comes within the bound and the
// process RSS stays bounded. `npm run campaign` runs the same cases at 10,000+.
import { afterAll, beforeAll, expect, it } from "vitest";
import { openTestApp, type TestApp } from "../helpers/backend.ts";
import { campaignCases, runCampaign, summary, uncovered, type CampaignReport } from "../helpers/hostile-campaign.ts";
import { fingerprint, seedHostileData, validValues } from "../helpers/hostile-seed.ts";
import { startTestServer, type TestServer } from "../helpers/http-server.ts";

const KEY = "campaign-key-1";
// Each answer within 15 s: the slowest legitimate request here (a full-cost query on a busy
// shared machine) takes about a second; an unbounded one (issue 15 item 1) took 17.8 s.
const MAX_MS = 15_000;
// The test process holds the server, the in-memory database and the client; 10^6-long lists
// and 1 MB strings must not grow it by more than this.
const RSS_GROWTH = 1.5 * 2 ** 30;

let t: TestApp;
let s: TestServer;
let baseRss = 0;
beforeAll(async () => {
  t = await openTestApp({ MONOSCOPE_API_KEYS: KEY });
  await seedHostileData(t.app);
  s = await startTestServer(t.app, { rateLimitPerMinute: 0 });
  baseRss = process.memoryUsage.rss();
});
afterAll(async () => {
  await s?.close();
  await t?.close();
});

const options = (key: string | null) => ({
  graphql: s.graphql,
  key,
  maxMs: MAX_MS,
  rss: () => process.memoryUsage.rss(),
  maxRssBytes: baseRss + RSS_GROWTH,
});

const reports: CampaignReport[] = [];

it("phase one, no key: every mutation is refused and no table changes", async () => {
  const before = await fingerprint(t.app.db);
  const cases = campaignCases(validValues("read-only"), { seed: 15_001, random: 120, perArg: 3, maxDepth: 4 });
  const r = await runCampaign(cases, options(null));
  reports.push(r);
  console.log(`[${t.db.backend}] phase one: ${summary(r)}`);
  const after = await fingerprint(t.app.db);
  const changed = Object.keys({ ...before, ...after }).filter((table) => before[table] !== after[table]);
  expect({ problems: r.problems, changed }).toEqual({ problems: [], changed: [] });
});

it("phase two, with the key: nothing answers 5xx or INTERNAL_SERVER_ERROR", async () => {
  const cases = campaignCases(validValues("writes"), { seed: 15_002, random: 120, perArg: 3, maxDepth: 4 });
  const r = await runCampaign(cases, options(KEY));
  reports.push(r);
  console.log(`[${t.db.backend}] phase two: ${summary(r)}`);
  expect(r.problems).toEqual([]);
  expect(r.internalErrors).toBe(0);
});

it("every field and argument of the schema received hostile values, and every argument's reached a resolver", () => {
  expect(reports).toHaveLength(2);
  const [one, two] = reports as [CampaignReport, CampaignReport];
  for (const r of [one, two]) expect(uncovered(r, { executed: false })).toEqual({ fields: [], args: [] });
  // With the key, every argument (mutations' included) got at least one hostile value past validation.
  expect(uncovered(two, { executed: true }).args).toEqual([]);
});
