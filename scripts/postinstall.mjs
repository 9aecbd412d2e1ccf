// After `npm install`/`npm ci`, offline: generates the Prisma client, builds the native scan and
// the IDE bundle, then compiles src/ into dist/ (what bin/monoscope.js runs).
// The Prisma CLI wants to download its schema-engine binary even for `generate`,
// which only needs WebAssembly; pointing PRISMA_SCHEMA_ENGINE_BINARY at any existing
// file skips that download (the engine is never executed by `generate`).
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(join(root, "package.json"));

function run(label, cmd, args, env = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: "inherit", env: { ...process.env, ...env } });
  if (r.status !== 0) {
    console.error(`postinstall: ${label} failed (exit ${r.status})`);
    process.exit(r.status ?? 1);
  }
}

const prismaCli = require.resolve("prisma/build/index.js");
run("prisma generate", process.execPath, [prismaCli, "generate"], {
  PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? process.execPath,
  PRISMA_HIDE_UPDATE_MESSAGE: "1",
  CHECKPOINT_DISABLE: "1",
});

// The optional native scan kernel (skips itself, exit 0, where it cannot be built).
run("build-native", process.execPath, [join(root, "scripts", "build-native.mjs")]);

// Optional build steps registered by other parts of the project (e.g. the offline IDE bundle).
const extra = join(root, "scripts", "build-assets.mjs");
if (existsSync(extra)) run("build-assets", process.execPath, [extra]);

// Last: the compiled CLI includes the Prisma client generated above.
run("build-dist", process.execPath, [join(root, "scripts", "build-dist.mjs")]);
