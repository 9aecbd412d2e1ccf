// Screenshots of the explorer's pages for README (docs/explorer-*.png), taken from a running
// server with the demo loaded: `monoscope demo`, then
//   node scripts/explorer-screenshots.mjs http://localhost:4000 docs
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const [base = "http://localhost:4000", out = "docs"] = process.argv.slice(2);
const sae = encodeURIComponent("glove-wordnet/2048");
const pages = [
  ["home", "/", "table"],
  ["sae", `/sae/${sae}`, ".map canvas[data-painted]"],
  ["feature", `/sae/${sae}/features/${process.env.FEATURE ?? 7}`, ".tok.max, ul.tree, ol.neighbours"],
  ["family", "/families/glove-wordnet", "details"],
  ["search", "/search?q=animals", "ol.hits li"],
  ["lists", "/lists", "h1"],
  ["jobs", "/jobs", "h1"],
  // The demo's attribution graph (circuit-tracer, data/demo/graphs/), with its paths panel.
  ["graph", `/graphs/${encodeURIComponent(process.env.GRAPH ?? "nnsight-123-gemma-3-1b-gemmascope2-16k")}`, "[data-testid=graph-diagram]"],
];
// The newest list, when there is one, gets a page of its own.
const lists = await fetch(`${base}/graphql`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query: "{ lists { id } }" }) })
  .then((r) => r.json())
  .then((b) => b.data?.lists ?? [], () => []);
if (lists[0]) pages.push(["list", `/lists/${encodeURIComponent(lists[0].id)}`, "tbody tr"]);
mkdirSync(out, { recursive: true });
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox", "--disable-gpu"] });
for (const [name, path, ready, width = 1280] of [...pages, ["phone", `/sae/${sae}/features/${process.env.FEATURE ?? 7}`, ".tok.max", 390]]) {
  const page = await browser.newPage({ viewport: { width, height: width < 500 ? 844 : name === "feature" ? 2000 : name === "family" || name === "sae" || name === "graph" ? 1300 : 900 } });
  await page.goto(base + path);
  for (const sel of ready.split(", ")) await page.locator(sel).first().waitFor({ timeout: 60_000 });
  if (name === "sae") {
    await page.getByLabel("Highlight", { exact: true }).fill("animals");
    await page.getByRole("button", { name: "Highlight" }).click();
    await page.getByText(/\d+ matches/).waitFor({ timeout: 60_000 });
  }
  if (name === "family") {
    await page.locator("details summary").first().click();
    await page.locator("details ul.tree a").first().waitFor({ timeout: 60_000 });
  }
  await page.waitForTimeout(500);
  await page.screenshot({ path: join(out, `explorer-${name}.png`), fullPage: !["sae", "phone", "family", "feature", "graph"].includes(name) });
  await page.close();
}
await browser.close();
