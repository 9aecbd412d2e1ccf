// Panning the SAE map in headless Chromium: while the pointer drags, the map moves as one
// bitmap per frame; when it is released every point is drawn at its new place, so hover and
// click find a point where it now is (not where it was).
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { explorerBuilt } from "../../src/graphql/explorer.ts";
import { openTestApp, type TestApp } from "../helpers/backend.ts";
import { seedFeatures } from "../helpers/feature-seed.ts";
import { startTestServer, type TestServer } from "../helpers/http-server.ts";

const CHROMIUM = "/usr/bin/chromium";
let t: TestApp;
let s: TestServer;
let browser: Browser | undefined;
let saeId: string;
const dir = mkdtempSync(join(tmpdir(), "monoscope-map-pan-"));

beforeAll(async () => {
  if (!explorerBuilt()) {
    // @ts-expect-error plain ESM script without type declarations
    const { buildExplorer } = await import("../../scripts/build-assets.mjs");
    await buildExplorer();
  }
  t = await openTestApp();
  ({ saeId } = await seedFeatures(t.app, { n: 4, examples: 1 }));
  s = await startTestServer(t.app);
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await s?.close();
  await t?.close();
  rmSync(dir, { recursive: true, force: true });
});

it.runIf(existsSync(CHROMIUM))("a drag moves the map, and the released map is hit-tested where it now is", async () => {
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu"] });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  // Three points on a diagonal: feature 1 sits at the centre of the map before any pan.
  const points = [
    { index: 0, x: 0, y: 0, density: 0.01, maxActivation: 1, label: "corner a" },
    { index: 1, x: 1, y: 1, density: 0.01, maxActivation: 1, label: "the middle" },
    { index: 2, x: 2, y: 2, density: 0.01, maxActivation: 1, label: "corner b" },
  ];
  await page.route(`**/export/${encodeURIComponent(saeId)}.ndjson`, (route) =>
    route.fulfill({ status: 200, contentType: "application/x-ndjson", body: points.map((p) => JSON.stringify(p)).join("\n") + "\n" }),
  );
  // The SAE's stats arrive after the map is drawn (as on a loaded server): the map must not move then.
  let releaseStats!: () => void;
  const statsHeld = new Promise<void>((r) => (releaseStats = r));
  await page.route("**/graphql", async (route) => {
    if (route.request().postData()?.includes("ExplorerSae")) await statsHeld;
    await route.continue();
  });
  await page.goto(`${s.url}/sae/${encodeURIComponent(saeId)}`);
  const canvas = page.locator(".map canvas[data-complete]");
  await canvas.waitFor();
  const b = (await canvas.boundingBox())!;
  releaseStats();
  await page.locator('dl.stats[aria-busy="false"]').waitFor();
  expect(await canvas.boundingBox()).toEqual(b);
  const cx = b.x + b.width / 2, cy = b.y + b.height / 2;
  const tip = page.locator(".map .tip");
  await page.mouse.move(cx, cy);
  await expect.poll(() => tip.textContent()).toBe("#1 the middle");

  // Drag from an empty spot (off the diagonal) by (+90, +40).
  const draws = async () => Number(await canvas.getAttribute("data-draws"));
  const before = await draws();
  await page.mouse.move(cx - 200, cy + 150);
  await page.mouse.down();
  await page.mouse.move(cx - 110, cy + 190, { steps: 12 });
  expect(await draws()).toBeGreaterThanOrEqual(before + 10); // frames while dragging
  await page.mouse.up();
  expect(await canvas.boundingBox()).toEqual(b); // the map itself did not move on the page

  await page.mouse.move(cx, cy);
  await expect.poll(async () => (await tip.count()) === 0 || !(await tip.textContent())?.includes("#1")).toBe(true);
  await page.mouse.move(cx + 90, cy + 40);
  await expect.poll(() => tip.textContent()).toBe("#1 the middle");
  await page.mouse.click(cx + 90, cy + 40);
  await page.waitForURL(new RegExp(`/sae/${encodeURIComponent(saeId)}/features/1$`));
}, 120_000);
