// The explorer in headless Chromium on the demo, warm server: a feature page from navigation to
// painted activations (in-app navigation through the history API, and a deep link that loads the
// whole app), and the largest demo map from navigation to its first full paint (interactive).
//   node bin/run-ts.js scripts/bench/explorer.ts [--data-dir <demo data dir>] [--pages N]
// Without --data-dir (or MONOSCOPE_BENCH_DEMO_DIR) it sets up the demo's 512 and 2048 SAEs in a
// temporary directory first (a few minutes). Prints one JSON document (lib.ts); logs on stderr.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";
import { type BenchRow, emit, intArg, log, percentile, round } from "./lib.ts";

const ROOT = resolve(import.meta.dirname, "..", "..");
const argv = process.argv.slice(2);
const opt = (name: string) => (argv.includes(`--${name}`) ? argv[argv.indexOf(`--${name}`) + 1] : undefined);
const pages = intArg("pages", 40);
const CHROMIUM = "/usr/bin/chromium";

async function freePort(): Promise<number> {
  return new Promise((done) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => done(port));
    });
  });
}

let scratch: string | null = null;
let dataDir = opt("data-dir") ?? process.env.MONOSCOPE_BENCH_DEMO_DIR;
if (!dataDir) {
  scratch = mkdtempSync(join(tmpdir(), "monoscope-explorer-bench-"));
  dataDir = scratch;
  log(`setting up the demo (512, 2048) in ${dataDir}`);
  const r = spawnSync(process.execPath, ["bin/monoscope.js", "--data-dir", dataDir, "demo", "--sizes", "512,2048", "--setup-only"], { cwd: ROOT, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`demo setup failed: ${r.stderr.slice(-2000)}`);
}
if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found (apt-get install chromium)`);

const port = await freePort();
const server = spawn(process.execPath, ["bin/monoscope.js", "--data-dir", resolve(dataDir), "serve", "--port", String(port)], { cwd: ROOT, stdio: "ignore" });
// However this script ends, the server it started goes with it.
process.on("exit", () => server.kill("SIGTERM"));
server.on("exit", (code) => code && log(`server exited with ${code}`));
const base = `http://127.0.0.1:${port}`;
for (let i = 0; ; i++) {
  if ((await fetch(`${base}/readyz`).then((r) => r.ok).catch(() => false))) break;
  if (i > 600 || server.exitCode != null) throw new Error("server did not become ready");
  await new Promise((r) => setTimeout(r, 200));
}

const gql = async (query: string) => ((await (await fetch(`${base}/graphql`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query }) })).json()) as any).data;
const saes: { id: string; featureCount: number }[] = (await gql("{ saes { id featureCount } }")).saes.sort((a: any, b: any) => a.featureCount - b.featureCount);
const featureSae = saes.find((s) => s.id.endsWith("/2048")) ?? saes.at(-1)!;
const mapSae = saes.at(-1)!;
const enc = encodeURIComponent;
const featureUrl = (i: number) => `/sae/${enc(featureSae.id)}/features/${i}`;

const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu"] });
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
/** In the page: resolves once the feature page for `index` shows its shaded tokens and a frame has been painted. */
const PAINTED = `(index) => new Promise((done) => {
  const ok = () => document.querySelector(".tok.max") && (document.querySelector("main h1")?.textContent ?? "").includes("#" + index + ":");
  const finish = () => requestAnimationFrame(() => setTimeout(() => done(performance.now()), 0));
  if (ok()) return finish();
  const mo = new MutationObserver(() => { if (ok()) { mo.disconnect(); finish(); } });
  mo.observe(document.body, { childList: true, subtree: true });
})`;

// Warm-up: the app, the server's caches, the first queries.
await page.goto(base + featureUrl(0));
await page.locator(".tok.max").first().waitFor({ timeout: 60_000 });
const indices = Array.from({ length: pages }, (_, i) => (i * 7919 + 13) % featureSae.featureCount);
const inApp: number[] = [];
for (const index of indices) {
  // Strings run in the page (this file is typed without the DOM's names).
  const ms = await page.evaluate<number>(`(async () => {
    const t0 = performance.now();
    history.pushState(null, "", ${JSON.stringify(featureUrl(index))});
    dispatchEvent(new PopStateEvent("popstate"));
    return (await (${PAINTED})(${index})) - t0;
  })()`);
  inApp.push(ms);
}
const deep: number[] = [];
for (const index of indices.slice(0, Math.min(15, pages))) {
  await page.goto(base + featureUrl(index), { waitUntil: "commit" });
  // performance.now() counts from the navigation's start (timeOrigin).
  deep.push(await page.evaluate<number>(`(${PAINTED})(${index})`));
}
// The map draws as the export streams in: first points (pan, zoom and hover work from then on),
// then every point.
const mapFirst: number[] = [];
const map: number[] = [];
const NOW_AFTER_FRAME = "new Promise((done) => requestAnimationFrame(() => done(performance.now())))";
for (let r = 0; r < 5; r++) {
  await page.goto(`${base}/sae/${enc(mapSae.id)}`, { waitUntil: "commit" });
  await page.locator(".map canvas[data-painted]").waitFor({ timeout: 60_000 });
  mapFirst.push(await page.evaluate<number>(NOW_AFTER_FRAME));
  await page.locator(".map canvas[data-complete]").waitFor({ timeout: 60_000 });
  map.push(await page.evaluate<number>(NOW_AFTER_FRAME));
}
await browser.close();
server.kill("SIGTERM");
if (scratch) rmSync(scratch, { recursive: true, force: true });

const row = (name: string, xs: number[], sizes: Record<string, number>, limit: number, source: string): BenchRow => ({
  suite: "explorer",
  name,
  backend: "pglite",
  sizes,
  reps: xs.length,
  metric: "p50 latency",
  unit: "ms",
  value: round(percentile(xs, 50), 1),
  better: "lower",
  extra: { p90: round(percentile(xs, 90), 1), max: round(Math.max(...xs), 1) },
  target: { on: "value", op: "<=", limit, source },
});
const rows = [
  row("feature page: in-app navigation → painted activations", inApp, { features: featureSae.featureCount }, 500, "issue 16"),
  row("feature page: deep link (app load) → painted activations", deep, { features: featureSae.featureCount }, 500, "issue 16"),
  row("map: navigation → first points painted (interactive)", mapFirst, { features: mapSae.featureCount }, 1000, "issue 16"),
  { ...row("map: navigation → all points painted", map, { features: mapSae.featureCount }, 1000, "issue 16"), target: undefined },
];
for (const r of rows) log(`${r.name}: p50 ${r.value} ms (${JSON.stringify(r.extra)})`);
emit({ suite: "explorer", rows, notes: [`feature pages of ${featureSae.id}, map of ${mapSae.id}; headless Chromium with --disable-gpu (software canvas), server and browser on the same machine`] });
process.exit(0);
