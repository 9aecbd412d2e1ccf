// Build-time assets, run by scripts/postinstall.mjs after `npm install` / `npm ci`
// (and by hand: `npm run build:assets`). Offline: everything comes from node_modules.
//  - dist/ide/ide.js + ide.css: the GraphiQL IDE served at the server root.
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

export async function buildIde(outdir = join(root, "dist", "ide")) {
  let esbuild;
  try {
    esbuild = await import("esbuild");
  } catch {
    console.error("build-assets: esbuild is not installed; the query IDE at / will be unavailable");
    return false;
  }
  mkdirSync(outdir, { recursive: true });
  await esbuild.build({
    absWorkingDir: root,
    entryPoints: { ide: join(root, "scripts", "ide", "main.js") },
    bundle: true,
    minify: true,
    format: "iife",
    target: ["chrome110", "firefox110", "safari16"],
    outdir,
    define: { "process.env.NODE_ENV": '"production"' },
    legalComments: "linked",
    logLevel: "warning",
  });
  return true;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const t = Date.now();
  const ok = await buildIde();
  if (ok) console.error(`build-assets: query IDE bundled into dist/ide (${Date.now() - t} ms)`);
}
