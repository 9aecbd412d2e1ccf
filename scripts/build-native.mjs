// Builds the optional native scan kernel (native/scan4.c) into build/native/scan4.node with the
// system C compiler and Node's own headers (nothing is downloaded). Optional: when there is no
// compiler or no headers, this prints why and exits 0, and Monoscope uses the ONNX Runtime
// int8 scan instead (src/kernel/native-scan.ts). MONOSCOPE_NATIVE=0 skips the build.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const src = join(root, "native", "scan4.c");
const out = join(root, "build", "native", "scan4.node");
const skip = (why) => {
  console.error(`build-native: skipped (${why}); single-query nearest scans use the int8 ONNX Runtime path`);
  process.exit(0);
};

if (process.env.MONOSCOPE_NATIVE === "0") skip("MONOSCOPE_NATIVE=0");
if (process.arch !== "x64" || process.platform !== "linux") skip(`${process.platform}/${process.arch} is not linux/x64`);
const includeDirs = [join(dirname(process.execPath), "..", "include", "node"), "/usr/include/node", "/usr/local/include/node"];
const include = includeDirs.find((d) => existsSync(join(d, "node_api.h")));
if (!include) skip(`node_api.h not found in ${includeDirs.join(", ")}`);
const cc = process.env.CC ?? "cc";
if (existsSync(out) && statSync(out).mtimeMs > statSync(src).mtimeMs && !process.argv.includes("--force")) process.exit(0);
mkdirSync(dirname(out), { recursive: true });
// Built beside the target and renamed over it: a process that has the old one loaded keeps its copy.
const tmp = `${out}.${process.pid}.tmp`;
const args = ["-O3", "-std=gnu11", "-fPIC", "-shared", "-fvisibility=hidden", "-Wall", "-Werror", `-I${include}`, "-o", tmp, src, "-lpthread", "-lm"];
const r = spawnSync(cc, args, { stdio: "inherit" });
if (r.error) skip(`${cc}: ${r.error.message}`);
if (r.status !== 0) {
  rmSync(tmp, { force: true });
  skip(`${cc} exited with ${r.status}`);
}
renameSync(tmp, out);
console.error(`build-native: built ${out.slice(root.length + 1)}`);
