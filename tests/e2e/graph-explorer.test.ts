// The attribution-graph view in a real headless Chromium on both backends: /graphs lists the
// planted graph, /graphs/<slug> draws it (layers × positions, links by sign), the path and mediator
// panels name the planted chain and the missing concept for the selected logit, the pruning slider
// re-queries with nodeThreshold, clicking a node linked to a stored feature opens its page, and that
// page lists the graph (Feature.graphs); axe-core finds no serious or critical violation.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { parseLayerMapping } from "../../src/modules/graph/index.ts";
import { openTestApp, type TestApp } from "../helpers/backend.ts";
import { seedFeatures } from "../helpers/feature-seed.ts";
import { plantedGraph } from "../helpers/graph-generator.ts";
import { startTestServer, type TestServer } from "../helpers/http-server.ts";

const CHROMIUM = "/usr/bin/chromium";
const AXE = createRequire(import.meta.url).resolve("axe-core/axe.min.js");
const SHOTS = ".monoscope-test";
const { graph, planted } = plantedGraph({ plantedIndices: [1, 2, 3], noiseFeatures: 30 });
const slug = graph.metadata.slug;
const REAL = "data/demo/graphs/circuit-tracer_gemma-3-1b_123.json";
let t: TestApp;
let s: TestServer;
let browser: BrowserContext | undefined;
let profile: string;
const pageErrors: string[] = [];
let changedFeature = "";

beforeAll(async () => {
  // Always rebuild: a bundle left from an earlier tree would not have this view.
  // @ts-expect-error plain ESM script without type declarations
  const { buildExplorer } = await import("../../scripts/build-assets.mjs");
  await buildExplorer();
  t = await openTestApp();
  // The planted A, M and C sit in layers 1, 6 and 11 at indices 1, 2, 3: store those SAEs' features.
  for (const layer of [1, 6, 11]) await seedFeatures(t.app, { saeId: `syn/${layer}`, modelId: "monoscope-synthetic-1l", n: 5, examples: 0 });
  await t.app.services.graph.ingest(JSON.stringify(graph), { file: "planted.json", replace: false, mapping: parseLayerMapping([], "syn/{layer}") });
  await t.app.services.graph.ingest(readFileSync(REAL, "utf8"), { file: REAL, replace: false, mapping: parseLayerMapping([], null) });
  // A variant of the real graph (same model) without two of its features, and one influence changed.
  const variant = JSON.parse(readFileSync(REAL, "utf8"));
  variant.metadata.slug = "real-variant";
  const feats = variant.nodes.filter((n: any) => !["embedding", "logit", "mlp reconstruction error"].includes(n.feature_type));
  const gone = [feats[3].node_id, feats[7].node_id];
  variant.nodes = variant.nodes.filter((n: any) => !gone.includes(n.node_id));
  variant.links = variant.links.filter((l: any) => !gone.includes(l.source) && !gone.includes(l.target));
  feats[10].influence = 0.001;
  changedFeature = `${feats[10].layer} / ${feats[10].node_id.split("_")[1]}`;
  await t.app.services.graph.ingest(JSON.stringify(variant), { file: "variant.json", replace: false, mapping: parseLayerMapping([], null) });
  s = await startTestServer(t.app);
  profile = mkdtempSync(join(tmpdir(), "monoscope-chromium-"));
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await s?.close();
  await t?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

async function newPage(): Promise<Page> {
  browser ??= await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const page = await browser.newPage();
  await page.setViewportSize({ width: 1280, height: 900 });
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  return page;
}

async function check(page: Page, name: string) {
  await page.addScriptTag({ path: AXE });
  const found: any[] = await page.evaluate(`axe.run(document, { resultTypes: ["violations"] }).then((r) =>
    r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 3) })))`);
  const bad = found.filter((v: any) => v.impact === "serious" || v.impact === "critical").map((v: any) => `${v.id} (${v.impact}): ${v.nodes.join(", ")}`);
  expect(bad, `axe on ${name}`).toEqual([]);
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `graph-${name}.png`), fullPage: true });
}

it.runIf(existsSync(CHROMIUM))("graph list → graph view with paths and mediators → pruning → linked node → feature page lists the graph", async () => {
  const page = await newPage();
  await page.goto(`${s.url}/graphs`);
  await page.getByRole("link", { name: slug }).click();
  await page.waitForURL(new RegExp(`/graphs/${slug}$`));
  const diagram = page.getByTestId("graph-diagram");
  await diagram.locator("svg").waitFor();
  expect(await diagram.locator("[data-node]").count()).toBe(graph.nodes.length);
  // Both signs drawn.
  expect(await diagram.locator('line[stroke="#1f5fbf"]').count()).toBeGreaterThan(0);
  expect(await diagram.locator('line[stroke="#c2410c"]').count()).toBeGreaterThan(0);

  // The selected logit is the most probable one (the target); the top path is the planted chain.
  expect(await page.getByLabel("Logit").inputValue()).toBe(planted.target);
  const firstPath = page.getByTestId("graph-paths").locator("li").first();
  await expect.poll(() => firstPath.textContent()).toContain("“ Bryant”@4 → Kobe Bryant → Los Angeles Lakers → say a rival team");
  const topMediator = page.getByTestId("graph-mediators").locator("tbody tr").first();
  await expect.poll(() => topMediator.textContent()).toContain(planted.mediator);
  expect(await topMediator.textContent()).toContain("0%");
  await firstPath.getByRole("button", { name: "show" }).click();
  await expect.poll(() => firstPath.getByRole("button").getAttribute("aria-pressed")).toBe("true");
  await check(page, "view");

  // Pruning: noise features (influence ≥ 0.5) go, the planted ones (≤ 0.35) stay.
  await page.getByLabel(/Prune/).fill("0.4");
  await expect.poll(() => diagram.locator("[data-node]").count()).toBeLessThan(graph.nodes.length);
  expect(await diagram.locator(`[data-node="${planted.mediator}"]`).count()).toBe(1);

  // The middle node is linked to syn/6 #2: clicking it opens the feature page, which lists the graph.
  await diagram.locator(`a[data-node="${planted.mediator}"]`).click();
  await page.waitForURL(/\/sae\/syn%2F6\/features\/2$/);
  const appearances = page.getByTestId("feature-graphs");
  await appearances.getByRole("link", { name: slug }).waitFor();
  expect(await appearances.textContent()).toContain(planted.mediator);
  await check(page, "feature");
  expect(pageErrors).toEqual([]);
}, 180_000);

it.runIf(existsSync(CHROMIUM))("the real circuit-tracer graph draws all its nodes, with paths into the top logit, and passes axe", async () => {
  const page = await newPage();
  await page.goto(`${s.url}/graphs/nnsight-123-gemma-3-1b-gemmascope2-16k`);
  const diagram = page.getByTestId("graph-diagram");
  await diagram.locator("svg").waitFor();
  expect(await diagram.locator("[data-node]").count()).toBe(57);
  expect(await page.getByLabel("Logit").inputValue()).toBe("27_236812_3");
  const firstPath = page.getByTestId("graph-paths").locator("li").first();
  await expect.poll(() => firstPath.textContent()).toContain("“3”@3 → Output \"4\" (p=0.328)");
  await page.getByTestId("graph-mediators").locator("tbody tr").first().waitFor();
  await check(page, "real");
  expect(pageErrors).toEqual([]);
}, 120_000);

it.runIf(existsSync(CHROMIUM))("compares the real graph with a variant of the same model: counts, the changed feature first", async () => {
  const page = await newPage();
  await page.goto(`${s.url}/graphs/nnsight-123-gemma-3-1b-gemmascope2-16k`);
  await page.getByLabel("Compare with", { exact: true }).selectOption("real-variant");
  const summary = page.getByTestId("compare-summary");
  await expect.poll(() => summary.textContent()).toBe("38 features in both · 2 only in this graph · 0 only in real-variant");
  const first = page.locator('section[aria-labelledby="compare-h"] tbody tr').first();
  expect(await first.textContent()).toContain(changedFeature);
  await check(page, "compare");
  expect(pageErrors).toEqual([]);
}, 120_000);
