// `npm run bench` [-- --full] [-- --only a,b [--suite-args "..."]] [-- --budget <s>] [-- --list]: runs the benchmark suites one after the
// other (a 2-core machine: never two at once), each as a subprocess printing one JSON document,
// and writes BENCHMARKS.json + BENCHMARKS.md. A suite that is missing, fails or times out is
// skipped with the reason recorded. With --only, the named suites replace their previous entries
// in an existing BENCHMARKS.json and the others are kept (each suite records when it ran).
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { adaptSuite } from "./adapters.ts";
import { benchMode, createBenchDatabase, log, machine, numpyInfo, postgresSettings, postgresUrl, round } from "./lib.ts";
import { renderMarkdown } from "./report.ts";
import { parseSuiteOutput } from "./run-output.ts";
import { SUITES, type SuiteDef } from "./suites.ts";
import type { BenchReport, SuiteResult } from "./report-types.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const argv = process.argv.slice(2);
const mode = benchMode(argv);
const only = argv.includes("--only") ? argv[argv.indexOf("--only") + 1].split(",") : null;
// --suite-args "…": extra arguments for the selected suites (with --only), e.g. a size for `large`.
const suiteArgs = argv.includes("--suite-args") ? argv[argv.indexOf("--suite-args") + 1].trim().split(/\s+/).filter(Boolean) : [];
if (suiteArgs.length && !only) throw new Error("--suite-args needs --only (the arguments are for the named suites)");
const outJson = join(ROOT, "BENCHMARKS.json");
const outMd = join(ROOT, "BENCHMARKS.md");
/** Quick mode must stay under 10 minutes on this machine, full mode around an hour: suites share the budget. */
const BUDGET_S = (() => {
  // --budget <s>: a longer budget for a run that is meant to take longer (the large suite at 1M features).
  const i = argv.indexOf("--budget");
  if (i < 0) return { quick: 570, full: 4500 }[mode];
  const s = Number(argv[i + 1]);
  if (!Number.isFinite(s) || s <= 0) throw new Error(`--budget: expected seconds > 0, got ${argv[i + 1]}`);
  return s;
})();

if (argv.includes("--list")) {
  for (const s of SUITES) console.log(`${s.name.padEnd(14)} ${s.file}${s.fullOnly ? " (full only)" : ""}  ${s.what}`);
  process.exit(0);
}

function git(args: string[]): string {
  const r = spawnSync("git", args, { cwd: ROOT, encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : "";
}

/** Runs one suite; resolves with its stdout/stderr and how it ended. */
function runSuite(def: SuiteDef, timeoutS: number, env: NodeJS.ProcessEnv, variantArgs: string[] = []): Promise<{ code: number | null; timedOut: boolean; stdout: string; stderr: string; seconds: number }> {
  return new Promise((done) => {
    const t0 = performance.now();
    const args = [join(ROOT, "bin/run-ts.js"), join(ROOT, def.file), ...(mode === "full" ? ["--full"] : []), ...(suiteArgs.length ? suiteArgs : (def.args?.[mode] ?? [])), ...variantArgs];
    const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += String(d)));
    child.stderr.on("data", (d) => {
      stderr += String(d);
      process.stderr.write(`  [${def.name}] ${String(d).replace(/\n(?=.)/g, `\n  [${def.name}] `)}`);
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      // The suite's whole process group: it may have started servers of its own.
      const kill = (sig: NodeJS.Signals) => {
        try {
          process.kill(-child.pid!, sig);
        } catch {
          /* already gone */
        }
      };
      kill("SIGTERM");
      setTimeout(() => kill("SIGKILL"), 5000).unref();
    }, timeoutS * 1000);
    child.on("close", (code) => {
      clearTimeout(timer);
      done({ code, timedOut, stdout, stderr, seconds: round((performance.now() - t0) / 1000, 1) });
    });
  });
}

/**
 * A suite run on both backends (variants pglite and postgres, one after the other in this run): each
 * PGlite row without a baseline of its own gets the PostgreSQL row of the same name as its baseline.
 */
function pairVariants(results: SuiteResult[]): void {
  for (const lite of results.filter((s) => s.variant === "pglite" && s.status === "ok")) {
    const server = results.find((s) => s.name === lite.name && s.variant === "postgres" && s.status === "ok");
    if (!server) continue;
    lite.rows = lite.rows.map((r) => {
      const twin = server.rows.find((x) => x.name === r.name);
      if (r.baseline || !twin || !(twin.value > 0) || JSON.stringify(twin.sizes) !== JSON.stringify(r.sizes)) return r;
      return { ...r, baseline: { name: "same measurement on PostgreSQL (next run of the suite)", backend: twin.backend, value: twin.value }, ratio: round(r.value / twin.value, 3), headline: r.headline ?? "pglite-vs-postgres" };
    });
  }
}

const lastLines = (s: string, n = 3) => s.trim().split("\n").slice(-n).join(" | ").slice(0, 600);

async function main(): Promise<void> {
  const started = Date.now();
  log(`mode ${mode}${only ? `, only ${only.join(",")}` : ""}`);
  const pgUrl = await postgresUrl();
  const numpy = await numpyInfo();
  let pgInfo: BenchReport["postgres"] = { available: false, reason: pgUrl.url === null ? pgUrl.reason : "" };
  const env: NodeJS.ProcessEnv = { ...process.env, MONOSCOPE_BENCH_MODE: mode, FORCE_COLOR: "0" };
  if (pgUrl.url) {
    try {
      const c = new pg.Client({ connectionString: pgUrl.url });
      await c.connect();
      const u = new URL(pgUrl.url);
      pgInfo = { available: true, server: `${u.hostname}:${u.port}`, settings: await postgresSettings(c) };
      await c.end();
      env.TEST_DATABASE_URL = pgUrl.url;
    } catch (err) {
      pgInfo = { available: false, reason: `cannot connect: ${(err as Error).message}` };
    }
  }

  const previous: BenchReport | null = only && existsSync(outJson) ? (JSON.parse(readFileSync(outJson, "utf8")) as BenchReport) : null;
  const results: SuiteResult[] = [];
  for (const def of SUITES) {
    if (only && !only.includes(def.name)) {
      const kept = previous?.suites.filter((s) => s.name === def.name) ?? [];
      results.push(...(kept.length ? kept : [{ name: def.name, file: def.file, what: def.what, mode, ranAt: new Date().toISOString(), status: "skipped" as const, seconds: 0, rows: [], reason: "not selected (--only)" }]));
      continue;
    }
    for (const variant of (def.variants ?? [{ label: "" }]).filter((v) => !v.modes || v.modes.includes(mode))) {
      const base: SuiteResult = { name: def.name, variant: variant.label || undefined, file: def.file, what: def.what, mode, ranAt: new Date().toISOString(), status: "skipped", seconds: 0, rows: [] };
      const title = `${def.name}${variant.label ? ` (${variant.label})` : ""}`;
      if (def.fullOnly && mode === "quick") {
        results.push({ ...base, reason: "full mode only (npm run bench -- --full)" });
        continue;
      }
      if (!existsSync(join(ROOT, def.file))) {
        results.push({ ...base, status: "missing", reason: `${def.file} does not exist yet` });
        continue;
      }
      if (variant.postgres && !pgUrl.url) {
        results.push({ ...base, reason: `no PostgreSQL: ${pgInfo.available ? "" : pgInfo.reason}` });
        continue;
      }
      const elapsed = (Date.now() - started) / 1000;
      let timeoutS = def.timeoutS[mode];
      timeoutS = Math.min(timeoutS, BUDGET_S - elapsed);
      if (timeoutS < 20) {
        results.push({ ...base, reason: `${mode}-mode budget (${BUDGET_S} s) used up before this suite` });
        continue;
      }
      // Suites that pick their backend from DATABASE_URL: none for PGlite, a fresh database for PostgreSQL.
      const suiteEnv = { ...env };
      if (def.variants) delete suiteEnv.DATABASE_URL;
      const db = variant.postgres && pgUrl.url ? await createBenchDatabase(pgUrl.url, def.name) : null;
      if (db) suiteEnv.DATABASE_URL = db.url;
      const partialFile = join(tmpdir(), `monoscope-bench-${def.name}${variant.label ? `-${variant.label}` : ""}-${process.pid}.json`);
      suiteEnv.MONOSCOPE_BENCH_PARTIAL = partialFile;
      log(`suite ${title}: ${def.file} (timeout ${Math.round(timeoutS)} s)`);
      const r = await runSuite(def, timeoutS, suiteEnv, variant.args).finally(() => db?.drop().catch(() => {}));
      // No document on stdout (killed in a blocking call, or crashed): the suite's last snapshot, if any.
      const printed = parseSuiteOutput(r.stdout);
      const doc = printed ?? (existsSync(partialFile) ? parseSuiteOutput(readFileSync(partialFile, "utf8")) : null);
      rmSync(partialFile, { force: true });
      if (r.timedOut && !doc) {
        results.push({ ...base, status: "timeout", seconds: r.seconds, reason: `stopped after ${Math.round(timeoutS)} s: ${lastLines(r.stderr, 2)}` });
      } else if (!doc) {
        results.push({ ...base, status: "failed", seconds: r.seconds, reason: `${r.code !== 0 ? `exit ${r.code}` : "no JSON document on stdout"}: ${lastLines(r.stderr)}` });
      } else {
        // A suite may report its own verdict through its exit code (the soak does): keep its figures.
        const adapted = adaptSuite(def.name, doc);
        const where = adapted.machine?.cores && adapted.machine.cpu ? adapted.machine : machine();
        adapted.rows = adapted.rows.map((row) => ({ ...row, machine: row.machine ?? where }));
        adapted.machine = where;
        let reason: string | undefined;
        if (r.timedOut) reason = `partial: stopped at the ${Math.round(timeoutS)} s timeout`;
        else if (!printed) reason = `partial: exit ${r.code} before the end: ${lastLines(r.stderr, 2)}`;
        else if (r.code !== 0) adapted.notes = [...(adapted.notes ?? []), `the suite exited with code ${r.code}`];
        if (reason) adapted.notes = [...(adapted.notes ?? []), reason];
        results.push({ ...base, status: "ok", seconds: r.seconds, ...adapted, ...(reason ? { reason } : {}) });
      }
      const last = results[results.length - 1];
      log(`suite ${title}: ${last.status} in ${last.seconds} s, ${last.rows.length} rows${last.reason ? ` (${last.reason})` : ""}`);
    }
  }

  pairVariants(results);
  const report: BenchReport = {
    generatedAt: new Date().toISOString(),
    mode,
    command: `npm run bench${mode === "full" ? " -- --full" : ""}${only ? ` (--only ${only.join(",")})` : ""}${suiteArgs.length ? ` --suite-args "${suiteArgs.join(" ")}"` : ""}${argv.includes("--budget") ? ` --budget ${BUDGET_S}` : ""}`,
    git: { commit: git(["rev-parse", "--short", "HEAD"]), dirty: git(["status", "--porcelain", "--", "src", "scripts", "prisma"]) !== "" },
    machine: machine(),
    postgres: pgInfo,
    numpy,
    seconds: round((Date.now() - started) / 1000, 1),
    suites: results,
  };
  writeFileSync(outJson, JSON.stringify(report, null, 1) + "\n");
  writeFileSync(outMd, renderMarkdown(report));
  log(`wrote ${outJson} and ${outMd} in ${report.seconds} s`);
}

await main();
