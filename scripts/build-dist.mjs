// Compiles src/ into dist/ (tsconfig.build.json: emit only, type errors are `npm run typecheck`'s
// job), run by scripts/postinstall.mjs after `npm install` / `npm ci`, by `pretest` and `prebench`,
// and by hand: `npm run build`. Then it removes compiled files whose source is gone (a moved module
// must not keep answering from dist/) and writes dist/.build-stamp, which bin/monoscope.js compares
// with src/ to decide whether dist/ is current. dist/ide and dist/explorer (scripts/build-assets.mjs) are left alone.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");
const require = createRequire(join(root, "package.json"));

let tsc;
try {
  tsc = require.resolve("typescript/bin/tsc");
} catch {
  // typescript is a dev dependency: without it bin/monoscope.js runs src/ through tsx.
  console.error("build-dist: typescript is not installed; the CLI will run from src/ (slower start-up)");
  process.exit(0);
}

const t0 = Date.now();
const r = spawnSync(process.execPath, [tsc, "-p", join(root, "tsconfig.build.json")], { cwd: root, stdio: "inherit" });
if (r.status !== 0) {
  console.error(`build-dist: tsc failed (exit ${r.status})`);
  process.exit(r.status ?? 1);
}

/** Compiled files under dist/ whose .ts under src/ no longer exists. */
function prune(dir, rel = "") {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const relPath = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) {
      if (rel === "" && (e.name === "ide" || e.name === "explorer")) continue;
      prune(join(dir, e.name), relPath);
      if (readdirSync(join(dir, e.name)).length === 0) rmSync(join(dir, e.name), { recursive: true });
    } else {
      const m = /^(.*)\.js(\.map)?$/.exec(relPath);
      if (m && !existsSync(join(root, "src", `${m[1]}.ts`))) rmSync(join(dir, e.name));
    }
  }
}
prune(dist);
writeFileSync(join(dist, ".build-stamp"), `${new Date().toISOString()}\n`);
console.error(`build-dist: src/ compiled into dist/ (${Date.now() - t0} ms)`);
