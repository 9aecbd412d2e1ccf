// The offline query IDE in a real headless Chromium (Debian's package, driven by
// playwright-core): the page loads with no network beyond the server itself, runs a
// query and shows the result. A screenshot is left in .monoscope-test/ide.png.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ideBuilt } from "../../src/graphql/ide.ts";
import { openTestApp, type TestApp } from "../helpers/backend.ts";
import { seedFeatures } from "../helpers/feature-seed.ts";
import { startTestServer, type TestServer } from "../helpers/http-server.ts";

const CHROMIUM = "/usr/bin/chromium";
let t: TestApp;
let s: TestServer;
let browser: BrowserContext | undefined;
let profile: string;

beforeAll(async () => {
  if (!ideBuilt()) {
    // @ts-expect-error plain ESM script without type declarations
    const { buildIde } = await import("../../scripts/build-assets.mjs");
    await buildIde();
  }
  t = await openTestApp();
  await seedFeatures(t.app, { n: 5, saeId: "ide-model/res/0", modelId: "ide-model" });
  s = await startTestServer(t.app);
  profile = mkdtempSync(join(tmpdir(), "monoscope-chromium-"));
});
afterAll(async () => {
  await browser?.close();
  await s?.close();
  await t?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

it.runIf(existsSync(CHROMIUM))("loads offline and runs a query", async () => {
  // A new empty profile directory (playwright passes it as --user-data-dir).
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  const page = await browser.newPage();
  const origin = new URL(s.url).origin;
  const offSite: string[] = [];
  // Anything not served by our own server fails, as it would with no internet.
  await page.route("**/*", (route) => {
    const url = route.request().url();
    if (url.startsWith(origin) || url.startsWith("data:") || url.startsWith("blob:")) return route.continue();
    offSite.push(url);
    return route.abort();
  });
  const pageErrors: string[] = [];
  page.on("pageerror", (e) => pageErrors.push(String(e)));

  await page.goto(`${s.url}/graphiql`, { waitUntil: "load" });
  await page.locator(".graphiql-container").waitFor({ timeout: 30_000 });
  // The first example tab is the overview query; run it.
  await page.locator(".graphiql-execute-button").click();
  const result = page.locator(".graphiql-response .CodeMirror");
  await expect.poll(async () => (await result.textContent()) ?? "", { timeout: 30_000 }).toContain("ide-model/res/0");
  // The examples arrive as tabs, filled in with this database's SAE.
  expect(await page.locator(".graphiql-tab").count()).toBeGreaterThanOrEqual(5);

  mkdirSync(".monoscope-test", { recursive: true });
  await page.screenshot({ path: join(".monoscope-test", "ide.png") });
  expect(offSite).toEqual([]);
  expect(pageErrors).toEqual([]);
});
