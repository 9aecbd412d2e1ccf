// The hostile-input campaign at scale (the test suite runs a few hundred of the same cases):
// seeds a fresh database, serves it from `monoscope serve` in a child process with an API key,
// then sends generated hostile requests without the key (every mutation must be refused and
// no table may change) and with it (nothing may answer 5xx or INTERNAL_SERVER_ERROR), each
// within --max-ms and with the server's RSS under --max-rss-mib.
//
//   node bin/run-ts.js scripts/campaign.ts [--requests 10000] [--seed 15] [--max-ms 15000] [--max-rss-mib 2048]
//       (embedded in a temporary data dir; DATABASE_URL: a fresh database on that server, dropped after)
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { createApp } from "../src/app.ts";
import { loadConfig } from "../src/config.ts";
import { silentLogger } from "../src/logger.ts";
import { campaignCases, type CampaignReport, runCampaign, summary, uncovered } from "../tests/helpers/hostile-campaign.ts";
import { fingerprint, seedHostileData, validValues } from "../tests/helpers/hostile-seed.ts";
import { parseArgs, rssMiB, spawnServer } from "./bench/api-harness.ts";

const args = parseArgs(process.argv.slice(2));
const requests = Number(args.requests ?? 10_000);
const seed = Number(args.seed ?? 15);
const maxMs = Number(args["max-ms"] ?? 15_000);
const maxRssMiB = Number(args["max-rss-mib"] ?? 2048);
const KEY = `campaign-${randomBytes(8).toString("hex")}`;
const log = (s: string) => process.stderr.write(`campaign: ${s}\n`);

async function freshPostgres(admin: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `monoscope_campaign_${randomBytes(6).toString("hex")}`;
  const run = async (sql: string) => {
    const c = new pg.Client({ connectionString: admin });
    await c.connect();
    await c.query(sql);
    await c.end();
  };
  await run(`CREATE DATABASE ${name}`);
  const u = new URL(admin);
  u.pathname = `/${name}`;
  return { url: u.toString(), drop: () => run(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), "monoscope-campaign-"));
  const pgdb = process.env.DATABASE_URL ? await freshPostgres(process.env.DATABASE_URL) : null;
  const env: Record<string, string> = { MONOSCOPE_DATA_DIR: dataDir, DATABASE_URL: pgdb?.url ?? "", MONOSCOPE_API_KEYS: KEY };
  const config = loadConfig({ ...process.env, ...env, MONOSCOPE_LOG_LEVEL: "warn" });
  const tables = async () => {
    const app = await createApp(config, { log: silentLogger });
    try {
      return await fingerprint(app.db);
    } finally {
      await app.close();
    }
  };
  try {
    const app = await createApp(config, { log: silentLogger });
    await seedHostileData(app).finally(() => app.close());
    const before = await tables();
    // Each phase gets the sweep (every coordinate, 3 values) plus random cases up to its half.
    const sweepSize = [...campaignCases(validValues("read-only"), { seed, random: 0, perArg: 3, maxDepth: 4 })].length;
    const random = Math.max(0, Math.ceil(requests / 2) - sweepSize);
    const reports: CampaignReport[] = [];
    for (const phase of ["no key", "key"] as const) {
      const server = await spawnServer({ ...env, MONOSCOPE_LOG_LEVEL: "error" });
      log(`phase ${phase}: ${sweepSize + random} requests against ${server.url} (${pgdb ? "PostgreSQL" : "embedded"})`);
      const t0 = Date.now();
      try {
        const cases = campaignCases(validValues(phase === "key" ? "writes" : "read-only"), { seed: seed * 2 + reports.length, random, perArg: 3, maxDepth: 5 });
        const r = await runCampaign(cases, {
          graphql: `${server.url}/graphql`,
          key: phase === "key" ? KEY : null,
          maxMs,
          rss: () => rssMiB(server.pid) * 2 ** 20,
          maxRssBytes: maxRssMiB * 2 ** 20,
        });
        reports.push(r);
        log(`phase ${phase} in ${((Date.now() - t0) / 1000).toFixed(0)} s: ${summary(r)}`);
      } finally {
        await server.stop();
      }
      if (phase === "no key") {
        const after = await tables();
        const changed = Object.keys(before).filter((t) => before[t] !== after[t]);
        log(changed.length ? `tables changed by requests without a key: ${changed.join(", ")}` : "no table changed without a key");
        if (changed.length) reports[0]!.problems.unshift(`tables changed by requests without a key: ${changed.join(", ")}`);
      }
    }
    const total = reports.reduce((s, r) => s + r.requests, 0);
    const internal = reports.reduce((s, r) => s + r.internalErrors, 0);
    const gaps = uncovered(reports[1]!, { executed: true });
    const problems = reports.flatMap((r) => r.problems);
    log(gaps.fields.length || gaps.args.length ? `not covered: ${JSON.stringify(gaps)}` : "every field and argument covered, every argument's hostile values executed");
    if (gaps.fields.length || gaps.args.length) problems.unshift(`not covered: ${JSON.stringify(gaps)}`);
    const slowest = Math.max(...reports.map((r) => r.slowestMs));
    const peak = Math.max(...reports.map((r) => r.peakRssBytes));
    // Internal errors first: they are what the campaign exists to find.
    const internalFirst = [...problems].sort((a, b) => Number(/status 5\d\d|INTERNAL_SERVER_ERROR/.test(b)) - Number(/status 5\d\d|INTERNAL_SERVER_ERROR/.test(a)));
    for (const p of internalFirst.slice(0, 40)) log(`problem: ${p}`);
    console.log(
      `${total} hostile requests, ${internal} internal errors (${pgdb ? "postgres" : "pglite"}; slowest answer ${Math.round(slowest)} ms, ` +
        `server peak RSS ${Math.round(peak / 2 ** 20)} MiB, ${problems.length} problems)`,
    );
    process.exitCode = problems.length ? 1 : 0;
  } finally {
    await pgdb?.drop().catch(() => {});
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
