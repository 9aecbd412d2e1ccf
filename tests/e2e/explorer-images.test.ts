// The feature page of a feature with image examples, in headless Chromium: each image is
// shown with its per-patch heatmap over it (one cell per patch, the strongest outlined),
// the image has alt text naming the grid and the strongest patch, the image loads from
// /images/<sha256> on the server (nothing off-site), and axe finds no serious or critical
// violation, in light and dark mode; the keyboard shortcuts (j/k, /) work. Screenshots:
// .monoscope-test/explorer-image.png and explorer-image-dark.png.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { explorerBuilt } from "../../src/graphql/explorer.ts";
import { importNativeActivations } from "../../src/ingest/native/import-activations.ts";
import { importSaelens } from "../../src/ingest/saelens/import-saelens.ts";
import { openTestApp, type TestApp } from "../helpers/backend.ts";
import { startTestServer, type TestServer } from "../helpers/http-server.ts";
import { png } from "../helpers/images.ts";
import { writeCheckpoint } from "../helpers/saelens-fixture.ts";

const CHROMIUM = "/usr/bin/chromium";
const AXE = createRequire(import.meta.url).resolve("axe-core/axe.min.js");
const SAE = "vision/toy";
const PNG = png(56, 42, 5);
let t: TestApp;
let s: TestServer;
let browser: BrowserContext | undefined;
const dir = mkdtempSync(join(tmpdir(), "monoscope-explorer-images-"));

beforeAll(async () => {
  if (!explorerBuilt()) {
    // @ts-expect-error plain ESM script without type declarations
    const { buildExplorer } = await import("../../scripts/build-assets.mjs");
    await buildExplorer();
  }
  t = await openTestApp();
  await writeCheckpoint(join(dir, "ck"), { dIn: 8, dSae: 4, dtype: "F32" });
  await importSaelens(t.app.services.ingest, { dir: join(dir, "ck"), saeId: SAE });
  mkdirSync(join(dir, "img"));
  writeFileSync(join(dir, "img", "cat.png"), PNG);
  const values = Array.from({ length: 12 }, (_, i) => (i === 7 ? 4 : i / 10));
  const lines = [
    { index: 2, image: { file: "img/cat.png", patchGrid: [3, 4] }, values },
    { index: 2, tokens: ["a", " cat"], values: [0.2, 1] },
  ];
  writeFileSync(join(dir, "acts.jsonl"), lines.map((l) => JSON.stringify(l)).join("\n") + "\n");
  await importNativeActivations(t.app.services.ingest, { file: join(dir, "acts.jsonl"), saeId: SAE });
  s = await startTestServer(t.app);
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await s?.close();
  await t?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function launch(): Promise<BrowserContext> {
  browser ??= await chromium.launchPersistentContext(join(dir, "profile"), {
    executablePath: CHROMIUM,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  return browser;
}

it.runIf(existsSync(CHROMIUM))("overlays the per-patch heatmap on an image example, with alt text, and passes axe", async () => {
  const page = await (await launch()).newPage();
  await page.setViewportSize({ width: 1280, height: 900 });
  const origin = new URL(s.url).origin;
  const offSite: string[] = [];
  const images: string[] = [];
  await page.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith(`${origin}/images/`)) images.push(url);
    if (url.startsWith(origin) || url.startsWith("data:") || url.startsWith("blob:")) return route.continue();
    offSite.push(url);
    return route.abort();
  });
  await page.goto(`${s.url}/sae/${encodeURIComponent(SAE)}/features/2`);
  const figure = page.getByTestId("image-example");
  await figure.waitFor();
  expect(await figure.count()).toBe(1);
  expect(await figure.locator(".patch").count()).toBe(12);
  // Patch 7 (row 2, column 4) is the strongest: outlined, and named by the alt text.
  const max = figure.locator(".patch.max");
  expect(await max.count()).toBe(1);
  expect(await max.getAttribute("title")).toBe("patch 2,4: 4.00");
  const img = page.getByRole("img", { name: /Image example, 56 × 42 pixels, with a heatmap of 3 × 4 patch activations; the strongest patch is at row 2, column 4/ });
  await img.waitFor();
  const sha = createHash("sha256").update(PNG).digest("hex");
  expect(await img.getAttribute("src")).toBe(`/images/${sha}`);
  // Loaded and decoded: the bytes served are a real PNG of that size.
  await expect.poll(() => page.evaluate<number>(`document.querySelector(".image-example img").naturalWidth`)).toBe(56);
  // The text example beside it keeps its shaded tokens.
  await page.locator(".tok.max").first().waitFor();
  await page.addScriptTag({ path: AXE });
  const found: any[] = await page.evaluate(`axe.run(document, { resultTypes: ["violations"] }).then((r) =>
    r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 3) })))`);
  expect(found.filter((v) => v.impact === "serious" || v.impact === "critical")).toEqual([]);
  mkdirSync(".monoscope-test", { recursive: true });
  await page.screenshot({ path: join(".monoscope-test", "explorer-image.png"), fullPage: true });
  expect(images).toEqual([`${origin}/images/${sha}`]);

  // Keyboard: j/k walk the page's list links, "/" opens the search page with its field focused.
  await page.keyboard.press("j");
  const first = await page.evaluate<string>(`document.activeElement.textContent`);
  await page.keyboard.press("j");
  await page.keyboard.press("k");
  expect(await page.evaluate<string>(`document.activeElement.textContent`)).toBe(first);
  expect(first).toMatch(/vision\/toy #\d/);
  await page.keyboard.press("/");
  await page.waitForURL(/\/search\?q=$/);
  await expect.poll(() => page.evaluate<string>(`document.activeElement && document.activeElement.id`)).toBe("q");
  await page.keyboard.type("j");
  expect(await page.inputValue("#q")).toBe("j"); // typed into the field, not taken as a shortcut

  // Dark mode (the system setting): a dark page that still passes axe.
  await page.emulateMedia({ colorScheme: "dark" });
  await page.goto(`${s.url}/sae/${encodeURIComponent(SAE)}/features/2`);
  await page.getByTestId("image-example").waitFor();
  expect(await page.evaluate<string>(`getComputedStyle(document.documentElement).backgroundColor`)).toBe("rgb(22, 24, 29)");
  await page.addScriptTag({ path: AXE });
  const dark: any[] = await page.evaluate(`axe.run(document, { resultTypes: ["violations"] }).then((r) =>
    r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 3) })))`);
  expect(dark.filter((v) => v.impact === "serious" || v.impact === "critical")).toEqual([]);
  await page.screenshot({ path: join(".monoscope-test", "explorer-image-dark.png"), fullPage: true });
  expect(offSite).toEqual([]);
}, 120_000);

it.runIf(existsSync(CHROMIUM))("on a server that wants a key for reads, loads the image with the tab's key", async () => {
  const keyed = await startTestServer(t.app, { apiKeys: ["image-read-key"], readsRequireKey: true });
  try {
    expect((await fetch(`${keyed.url}/images/${createHash("sha256").update(PNG).digest("hex")}`)).status).toBe(401);
    const page = await (await launch()).newPage();
    await page.addInitScript(`sessionStorage.setItem("monoscope.apiKey", "image-read-key")`);
    await page.goto(`${keyed.url}/sae/${encodeURIComponent(SAE)}/features/2`);
    await page.getByTestId("image-example").waitFor();
    await expect.poll(() => page.evaluate<number>(`document.querySelector(".image-example img").naturalWidth`)).toBe(56);
    expect(await page.locator(".image-example img").getAttribute("src")).toMatch(/^blob:/);
    await page.close();
  } finally {
    await keyed.close();
  }
}, 60_000);
