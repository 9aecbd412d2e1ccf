#!/usr/bin/env node
// The `monoscope` command. Runs the compiled CLI in dist/ (built by `npm install` / `npm ci` and
// `npm run build`): start-up is then plain Node module loading. It runs the TypeScript sources
// through tsx instead, as in development, when MONOSCOPE_DEV=1, when dist/ has not been built, or
// when a file under src/ changed after the last build (so an edit is never masked by stale
// JavaScript; `npm run build` brings the fast path back).
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { setFlagsFromString } from "node:v8";

// The embedded database is PostgreSQL compiled to WebAssembly. V8 recompiles each wasm function
// with its optimising tier once it has run a little (budget 1.8 MB of code executed), and at
// start-up that is hundreds of functions that PostgreSQL runs only while it opens: measured here,
// ~0.25 s of CPU for each command. A larger budget leaves those on the baseline tier, while the
// functions that run hot in queries still reach the optimising tier within moments. Set before
// anything compiles WebAssembly.
setFlagsFromString("--wasm-tiering-budget=60000000");

const root = fileURLToPath(new URL("..", import.meta.url));
const compiled = join(root, "dist", "cli", "main.js");

/** mtime of the build stamp (written after a successful build), or null when dist/ is missing. */
function builtAt() {
  try {
    statSync(compiled);
    return statSync(join(root, "dist", ".build-stamp")).mtimeMs;
  } catch {
    return null;
  }
}

function sourcesNewerThan(t) {
  const src = join(root, "src");
  let names;
  try {
    names = readdirSync(src, { recursive: true });
  } catch {
    return false; // an install without sources: dist/ is all there is
  }
  for (const name of names) {
    if (!name.endsWith(".ts")) continue;
    try {
      if (statSync(join(src, name)).mtimeMs > t) return true;
    } catch {
      /* removed while we looked */
    }
  }
  return false;
}

const stamp = process.env.MONOSCOPE_DEV === "1" ? null : builtAt();
if (stamp !== null && !sourcesNewerThan(stamp)) {
  await import(pathToFileURL(compiled).href);
} else {
  const { register } = await import("tsx/esm/api");
  register();
  await import(pathToFileURL(join(root, "src", "cli", "main.ts")).href);
}
