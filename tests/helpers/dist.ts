// The compiled build (dist/) for tests that exercise it: rebuilt first when a source file is newer
// than its stamp, with the same rule bin/monoscope.js applies, so no test runs stale JavaScript.
import { execFileSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

export const ROOT = join(import.meta.dirname, "..", "..");
export const DIST = join(ROOT, "dist");

function distIsCurrent(): boolean {
  let stamp: number;
  try {
    stamp = statSync(join(DIST, ".build-stamp")).mtimeMs;
  } catch {
    return false;
  }
  const src = join(ROOT, "src");
  return readdirSync(src, { recursive: true })
    .filter((n): n is string => typeof n === "string" && n.endsWith(".ts"))
    .every((n) => statSync(join(src, n)).mtimeMs <= stamp);
}

export function ensureDist(): void {
  if (!distIsCurrent()) execFileSync(process.execPath, [join(ROOT, "scripts", "build-dist.mjs")], { cwd: ROOT, stdio: "pipe" });
}
