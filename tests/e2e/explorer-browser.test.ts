// The explorer in a real headless Chromium (Debian's package, driven by playwright-core), on
// both backends: every page renders from the public API with nothing loaded from off the
// server; the researcher's flow search → feature → neighbour → lineage parent → add to list →
// list page works with real URLs (back button, deep links); axe-core finds no serious or
// critical violation on any page; the feature page fits a 390 px phone. Screenshots are left
// in .monoscope-test/explorer-*.png.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { explorerBuilt } from "../../src/graphql/explorer.ts";
import { importSaelens } from "../../src/ingest/saelens/import-saelens.ts";
import { packagePath } from "../../src/paths.ts";
import { openTestApp, type TestApp } from "../helpers/backend.ts";
import { LARGE, SMALL, seedExplorerFamily } from "../helpers/explorer-seed.ts";
import { startTestServer, type TestServer } from "../helpers/http-server.ts";

const CHROMIUM = "/usr/bin/chromium";
const AXE = createRequire(import.meta.url).resolve("axe-core/axe.min.js");
const SHOTS = ".monoscope-test";
let t: TestApp;
let s: TestServer;
let browser: BrowserContext | undefined;
let profile: string;
const offSite: string[] = [];
const pageErrors: string[] = [];

beforeAll(async () => {
  if (!explorerBuilt()) {
    // @ts-expect-error plain ESM script without type declarations
    const { buildExplorer } = await import("../../scripts/build-assets.mjs");
    await buildExplorer();
  }
  t = await openTestApp();
  await seedExplorerFamily(t.app);
  s = await startTestServer(t.app);
  profile = mkdtempSync(join(tmpdir(), "monoscope-chromium-"));
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await s?.close();
  await t?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

async function newPage(width = 1280, height = 900, server: { url: string } = s): Promise<Page> {
  browser ??= await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  const page = await browser.newPage();
  await page.setViewportSize({ width, height });
  const origin = new URL(server.url).origin;
  await page.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith(origin) || url.startsWith("data:") || url.startsWith("blob:")) return route.continue();
    offSite.push(url);
    return route.abort();
  });
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  return page;
}

/** axe-core's serious and critical violations on the page as it is now. */
async function axeProblems(page: Page): Promise<string[]> {
  await page.addScriptTag({ path: AXE });
  // A string: it runs in the page, where the DOM's names exist (this file is typed without them).
  const found: any[] = await page.evaluate(`axe.run(document, { resultTypes: ["violations"] }).then((r) =>
    r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 3) })))`);
  return found.filter((v: any) => v.impact === "serious" || v.impact === "critical").map((v: any) => `${v.id} (${v.impact}): ${v.nodes.join(", ")}`);
}

async function check(page: Page, name: string) {
  expect(await axeProblems(page), `axe on ${name}`).toEqual([]);
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `explorer-${name}.png`), fullPage: true });
}

const enc = encodeURIComponent;

it.runIf(existsSync(CHROMIUM))("search → feature → neighbour → lineage parent → add to list → list page, with axe on every page", async () => {
  const page = await newPage();
  await page.goto(`${s.url}/`);
  await page.getByRole("link", { name: SMALL }).waitFor();
  await page.getByRole("link", { name: "GraphiQL" }).waitFor();
  await check(page, "home");

  // Search from the home page's box, narrowed to the larger SAE, then open the first hit by keyboard.
  await page.getByLabel("Search concepts").fill("violin");
  await page.getByLabel("Search concepts").press("Enter");
  await page.waitForURL(/\/search\?q=violin/);
  await page.getByLabel("SAE").selectOption(LARGE);
  await page.waitForURL(new RegExp(`sae=${enc(LARGE)}`));
  const firstHit = page.locator("ol.hits li a").first();
  await expect.poll(() => firstHit.textContent()).toContain("violin");
  await check(page, "search");
  await page.getByLabel("Query").press("ArrowDown");
  await page.keyboard.press("Enter");
  await page.waitForURL(new RegExp(`/sae/${enc(LARGE)}/features/\\d+$`));

  // The feature page: labels, shaded tokens with the strongest marked, logits, lineage.
  await page.locator(".tok.max").first().waitFor();
  expect(await page.locator("h1").textContent()).toContain("violin");
  expect(await page.locator(".tok.max").first().getAttribute("title")).toMatch(/violin.*8/);
  await page.getByRole("heading", { name: "Split lineage" }).waitFor();
  await page.locator("ul.tree[data-dir=parents] a").first().waitFor();
  await check(page, "feature");
  const featureUrl = page.url();

  // A neighbour in the same SAE, then its lineage parent in the smaller SAE.
  await page.locator("section:has(h2:text('Nearest in this SAE')) ol a").first().click();
  await page.waitForURL((u) => u.href !== featureUrl);
  const parent = page.locator("ul.tree[data-dir=parents] a").first();
  await parent.waitFor();
  await parent.click();
  await page.waitForURL(new RegExp(`/sae/${enc(SMALL)}/features/\\d+$`));
  await page.locator(".tok.max").first().waitFor();
  const parentUrl = page.url();

  // A human label, then add the feature to a new list and open the list.
  await page.getByLabel("Label", { exact: true }).fill("bowed string instruments");
  await page.getByRole("button", { name: "Save label" }).click();
  await page.getByRole("status").filter({ hasText: "Label saved" }).waitFor();
  await page.getByLabel("New list name").fill("strings");
  await page.getByLabel("Note").fill("parent of the violin split");
  await page.getByRole("button", { name: "Add", exact: true }).click();
  const listLink = page.locator("section:has(h2:text('Lists')) ul a", { hasText: "strings" });
  await listLink.waitFor();
  await listLink.click();
  await page.waitForURL(/\/lists\/[^/]+$/);
  await page.getByRole("cell", { name: "parent of the violin split" }).waitFor();
  await check(page, "list");
  const listUrl = page.url();

  // The back button returns to the feature page, where the human label is now listed.
  await page.goBack();
  await page.waitForURL(parentUrl);
  await page.locator(".labels .tag", { hasText: "human" }).waitFor();
  // A deep link to the list renders it straight from the server.
  await page.goto(listUrl);
  await page.getByRole("cell", { name: "parent of the violin split" }).waitFor();
  expect(offSite).toEqual([]);
  expect(pageErrors).toEqual([]);
}, 180_000);

it.runIf(existsSync(CHROMIUM))("the SAE map, family, lists and jobs pages render and pass axe", async () => {
  const page = await newPage();
  await page.goto(`${s.url}/sae/${enc(LARGE)}`);
  await expect.poll(() => page.locator(".map canvas[data-complete]").getAttribute("data-painted"), { timeout: 30_000 }).toBe("32");
  await page.getByText("Neuron-aligned").waitFor();
  await page.getByLabel("Colour by").selectOption("kind");
  await page.getByLabel("Highlight", { exact: true }).fill("violin");
  await page.getByRole("button", { name: "Highlight" }).click();
  await page.getByText(/\d+ matches/).waitFor();
  await check(page, "sae");

  await page.goto(`${s.url}/families/explore`);
  await page.getByRole("heading", { name: /Lineage forest/ }).waitFor();
  await page.locator("details summary").first().click();
  await page.locator("details ul.tree a").first().waitFor();
  await check(page, "family");

  for (const [path, name, heading] of [["/lists", "lists", "Lists"], ["/jobs", "jobs", "Jobs"]] as const) {
    await page.goto(`${s.url}${path}`);
    await page.getByRole("heading", { name: heading, exact: true }).waitFor();
    await check(page, name);
  }
  // An unknown app URL keeps the server's 404 outside the app's routes.
  expect((await fetch(`${s.url}/nope`)).status).toBe(404);
  expect(offSite).toEqual([]);
  expect(pageErrors).toEqual([]);
}, 120_000);

it.runIf(existsSync(CHROMIUM))("test your text and search by text on the demo's model, and a feature's sources", async () => {
  // The demo's 512 SAE, whose model the glove-wordnet source runs; post-ingest steps are not needed here.
  const steps = t.app.services.ingest.steps;
  t.app.services.ingest.steps = null;
  await importSaelens(t.app.services.ingest, { dir: packagePath("data", "demo", "saes", "512"), saeId: "glove-6b-100d/512" });
  t.app.services.ingest.steps = steps;
  const [brigade] = (await t.app.services.text.activateText("glove-6b-100d/512", "brigade", 1))[0]!.features;
  const page = await newPage();
  await page.goto(`${s.url}/sae/${enc("glove-6b-100d/512")}/features/${brigade!.index}`);
  await page.getByLabel("Text to run through the model").fill("The brigade marched at dawn.");
  await page.getByRole("button", { name: "Run" }).click();
  const result = page.getByTestId("test-text-result");
  await result.waitFor();
  const shaded = result.locator(".tok.max");
  expect(await shaded.textContent()).toBe(" brigade");
  expect(Number(await shaded.getAttribute("data-value"))).toBeCloseTo(brigade!.activation, 4);
  expect(await result.locator(".tok").count()).toBe(6);
  await check(page, "feature, test your text");

  await page.goto(`${s.url}/search?q=${enc("The brigade marched")}&mode=TEXT&sae=${enc("glove-6b-100d/512")}`);
  await page.getByRole("heading", { name: "Search by text" }).waitFor();
  const hits = page.locator("ol.hits li a");
  await hits.first().waitFor();
  expect(await hits.count()).toBeGreaterThan(3);
  await check(page, "search by text");

  await page.goto(`${s.url}/sae/${enc(LARGE)}/features/0`);
  const sources = page.locator("section:has(h2:text('Where it fires, by source')) tbody tr");
  await sources.first().waitFor();
  expect(await sources.allTextContents()).toEqual([expect.stringMatching(/^code4/), expect.stringMatching(/^prose7/)]);
  expect(offSite).toEqual([]);
  expect(pageErrors).toEqual([]);
}, 180_000);

it.runIf(existsSync(CHROMIUM))("asks once for the API key a server requires for changes and keeps it for the session", async () => {
  const keyed = await startTestServer(t.app, { apiKeys: ["explorer-test-key"] });
  const page = await newPage(1280, 900, keyed);
  try {
    const asked: string[] = [];
    page.on("dialog", (d) => {
      asked.push(d.message());
      void d.accept("explorer-test-key");
    });
    await page.goto(`${keyed.url}/sae/${enc(SMALL)}/features/15`);
    await page.locator(".tok.max").first().waitFor({ timeout: 15_000 });
    for (const text of ["first keyed label", "second keyed label"]) {
      await page.getByLabel("Label", { exact: true }).fill(text);
      await page.getByRole("button", { name: "Save label" }).click();
      await page.getByRole("status").filter({ hasText: "Label saved" }).waitFor({ timeout: 15_000 });
      await expect.poll(() => page.getByLabel("Label", { exact: true }).inputValue(), { timeout: 5000 }).toBe("");
    }
    expect(asked).toHaveLength(1);
    expect(asked[0]).toMatch(/API key/);
    expect(await page.evaluate<string | null>(`sessionStorage.getItem("monoscope.apiKey")`)).toBe("explorer-test-key");
    const labels = await t.app.db.prisma.$queryRaw<{ text: string }[]>`
      SELECT text FROM explanation WHERE sae_id = ${SMALL} AND feature_idx = 15 AND method = 'human' AND text LIKE '%keyed%' ORDER BY text`;
    expect(labels.map((l) => l.text)).toEqual(["first keyed label", "second keyed label"]);
  } finally {
    await page.close();
    await keyed.close();
  }
}, 60_000);

it.runIf(existsSync(CHROMIUM))("fits a 390 px phone viewport", async () => {
  const page = await newPage(390, 844);
  await page.goto(`${s.url}/sae/${enc(LARGE)}/features/0`);
  await page.locator(".tok.max").first().waitFor();
  const overflow = await page.evaluate<number>("document.documentElement.scrollWidth - window.innerWidth");
  expect(overflow).toBeLessThanOrEqual(1);
  await check(page, "phone");
}, 60_000);
