// Build-time assets, run by scripts/postinstall.mjs after `npm install` / `npm ci`
// (and by hand: `npm run build:assets`). Offline: everything comes from node_modules.
//  - dist/ide/ide.js + ide.css: the GraphiQL IDE served at /graphiql.
//  - dist/explorer/app.js + app.css: the explorer (src/web/) served at / and the app's URLs.
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** Bundles one browser entry point into outdir with esbuild; false (and a warning) without esbuild. */
async function bundle(what, entryPoints, outdir, options = {}) {
  let esbuild;
  try {
    esbuild = await import("esbuild");
  } catch {
    console.error(`build-assets: esbuild is not installed; ${what} will be unavailable`);
    return false;
  }
  mkdirSync(outdir, { recursive: true });
  await esbuild.build({
    absWorkingDir: root,
    entryPoints,
    bundle: true,
    minify: true,
    format: "iife",
    target: ["chrome110", "firefox110", "safari16"],
    outdir,
    define: { "process.env.NODE_ENV": '"production"' },
    legalComments: "linked",
    logLevel: "warning",
    ...options,
  });
  return true;
}

export function buildIde(outdir = join(root, "dist", "ide")) {
  return bundle("the query IDE at /graphiql", { ide: join(root, "scripts", "ide", "main.js") }, outdir);
}

export function buildExplorer(outdir = join(root, "dist", "explorer")) {
  return bundle("the explorer at /", { app: join(root, "src", "web", "main.tsx") }, outdir, { jsx: "automatic" });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  let t = Date.now();
  if (await buildIde()) console.error(`build-assets: query IDE bundled into dist/ide (${Date.now() - t} ms)`);
  t = Date.now();
  if (await buildExplorer()) console.error(`build-assets: explorer bundled into dist/explorer (${Date.now() - t} ms)`);
}
