// The explorer in headless Chromium on the demo, warm server: a feature page from navigation to
// painted activations (in-app navigation through the history API, and a deep link that loads the
// whole app), the largest demo map from navigation to its first full paint (interactive), and the
// frame rate of panning a 100,000-point map (the same page fed a synthetic 100k-point export).
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

// Panning a 100,000-point map: the SAE page with its export answered by 100k synthetic points
// (clustered, log-uniform densities), dragged by one pointermove per animation frame; the
// frame rate is the map's redraws per second during the drag.
const BIG = 100_000;
const bigExport = (() => {
  let s = 42;
  const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const lines: string[] = [];
  for (let i = 0; i < BIG; i++) {
    const c = i % 37;
    const gx = Math.sqrt(-2 * Math.log(rnd() || 1e-9)) * Math.cos(2 * Math.PI * rnd());
    const gy = Math.sqrt(-2 * Math.log(rnd() || 1e-9)) * Math.sin(2 * Math.PI * rnd());
    lines.push(JSON.stringify({ index: i, x: (c % 6) * 4 + gx, y: Math.floor(c / 6) * 4 + gy, density: 10 ** (-5 + 4 * rnd()), maxActivation: 1, label: `feature ${i}` }));
  }
  return lines.join("\n") + "\n";
})();
await page.route(`**/export/${enc(mapSae.id)}.ndjson`, (route) => route.fulfill({ status: 200, contentType: "application/x-ndjson", body: bigExport }));
const panFps: number[] = [];
for (let r = 0; r < 3; r++) {
  await page.goto(`${base}/sae/${enc(mapSae.id)}`);
  await page.locator(`.map canvas[data-complete][data-painted="${BIG}"]`).waitFor({ timeout: 120_000 });
  panFps.push(
    await page.evaluate<number>(`(async () => {
      const c = document.querySelector(".map canvas");
      const b = c.getBoundingClientRect();
      let x = b.left + b.width / 2;
      const y = b.top + b.height / 2;
      const ev = (type) => c.dispatchEvent(new PointerEvent(type, { clientX: x, clientY: y, buttons: type === "pointerup" ? 0 : 1, bubbles: true, pointerId: 1, isPrimary: true }));
      const frame = () => new Promise((done) => requestAnimationFrame(() => done()));
      ev("pointerdown");
      await frame();
      const d0 = Number(c.dataset.draws), t0 = performance.now();
      for (let i = 0; i < 150; i++) {
        x += i % 60 < 30 ? 3 : -3;
        ev("pointermove");
        await frame();
      }
      const fps = (Number(c.dataset.draws) - d0) / ((performance.now() - t0) / 1000);
      ev("pointerup");
      return fps;
    })()`),
  );
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
const rows: BenchRow[] = [
  row("feature page: in-app navigation → painted activations", inApp, { features: featureSae.featureCount }, 500, "issue 16"),
  row("feature page: deep link (app load) → painted activations", deep, { features: featureSae.featureCount }, 500, "issue 16"),
  row("map: navigation → first points painted (interactive)", mapFirst, { features: mapSae.featureCount }, 1000, "issue 16"),
  { ...row("map: navigation → all points painted", map, { features: mapSae.featureCount }, 1000, "issue 16"), target: undefined },
  {
    suite: "explorer",
    name: "map: pan 100,000 points (redraws per second while dragging)",
    backend: "pglite",
    sizes: { points: BIG },
    reps: panFps.length,
    metric: "median frame rate",
    unit: "frames/s",
    value: round(percentile(panFps, 50), 1),
    better: "higher",
    extra: { min: round(Math.min(...panFps), 1), max: round(Math.max(...panFps), 1) },
    target: { on: "value", op: ">=", limit: 30, source: "issue 16" },
  },
];
for (const r of rows) log(`${r.name}: p50 ${r.value} ms (${JSON.stringify(r.extra)})`);
emit({ suite: "explorer", rows, notes: [`feature pages of ${featureSae.id}, map of ${mapSae.id}; headless Chromium with --disable-gpu (software canvas), server and browser on the same machine`] });
process.exit(0);
