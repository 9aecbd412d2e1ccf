#!/usr/bin/env node
// The `monoscope` command. Runs the compiled CLI in dist/ (built by `npm install` / `npm ci` and
// `npm run build`): start-up is then plain Node module loading. It runs the TypeScript sources
// through tsx instead, as in development, when MONOSCOPE_DEV=1, when dist/ has not been built, or
// when a file under src/ changed after the last build (so an edit is never masked by stale
// JavaScript; `npm run build` brings the fast path back).
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

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
