// bin/monoscope.js runs the compiled dist/ only while it is current: a missing build, a source
// file newer than the build stamp, or MONOSCOPE_DEV=1 send it to src/ through tsx. Checked on a
// copy of the bin in a scratch package whose two entry points say which one ran.
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeEach, describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "..", "..");
const pkg = mkdtempSync(join(tmpdir(), "monoscope-bin-"));
afterAll(() => rmSync(pkg, { recursive: true, force: true }));

const stamp = join(pkg, "dist", ".build-stamp");
const source = join(pkg, "src", "cli", "main.ts");
const at = (path: string, secondsAgo: number) => {
  const t = new Date(Date.now() - secondsAgo * 1000);
  utimesSync(path, t, t);
};

function whichRan(env: Record<string, string> = {}): string {
  const r = spawnSync(process.execPath, [join(pkg, "bin", "monoscope.js")], { encoding: "utf8", env: { PATH: process.env.PATH ?? "", ...env } });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.trim();
}

describe("bin/monoscope.js", () => {
  beforeEach(() => {
    rmSync(pkg, { recursive: true, force: true });
    for (const d of ["bin", "dist/cli", "src/cli"]) mkdirSync(join(pkg, d), { recursive: true });
    writeFileSync(join(pkg, "package.json"), JSON.stringify({ name: "scratch", type: "module" }));
    symlinkSync(realpathSync(join(ROOT, "node_modules")), join(pkg, "node_modules"));
    copyFileSync(join(ROOT, "bin", "monoscope.js"), join(pkg, "bin", "monoscope.js"));
    writeFileSync(join(pkg, "dist", "cli", "main.js"), 'console.log("dist");\n');
    // A type annotation: only the TypeScript loader can run this file.
    writeFileSync(source, 'const from: string = "src";\nconsole.log(from);\n');
    writeFileSync(stamp, "built\n");
    at(source, 60);
    at(stamp, 10);
  });

  it("runs dist/ when the build is newer than every source file", () => {
    expect(whichRan()).toBe("dist");
  });

  it("runs src/ through tsx when a source file changed after the build", () => {
    at(source, 1);
    expect(whichRan()).toBe("src");
  });

  it("runs src/ when dist/ was never built, or with MONOSCOPE_DEV=1", () => {
    expect(whichRan({ MONOSCOPE_DEV: "1" })).toBe("src");
    rmSync(stamp);
    expect(whichRan()).toBe("src");
  });
});
