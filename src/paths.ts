// Where the package's files are, for code that runs from src/ (tsx, vitest) or from the compiled
// dist/ alike: assets (schema.graphql, prisma/migrations, data/demo, build/native, dist/ide) are found
// from the package root, never relative to the running file, whose depth differs between the two.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/** The nearest directory at or above `from` that holds a package.json. */
export function findPackageRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json"))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json at or above ${from}`);
  }
}

const here = fileURLToPath(import.meta.url);

export const packageRoot = findPackageRoot(dirname(here));

/** True when this process runs the tsc output in dist/ (false under tsx or vitest, which run src/). */
export const compiled = here.endsWith(".js");

/** An absolute path inside the package: packagePath("prisma", "migrations"). */
export function packagePath(...segments: string[]): string {
  return join(packageRoot, ...segments);
}

/**
 * The URL of one of our own modules, given by its path under src/ ("ingest/bulk/encode-worker.ts"),
 * as it runs in this process: the compiled .js under dist/ or the .ts source. For worker threads,
 * which load a file by URL and do not inherit the main thread's loader.
 */
export function ownModuleUrl(srcPath: string): URL {
  const file = compiled ? join(dirname(here), srcPath.replace(/\.ts$/, ".js")) : join(dirname(here), srcPath);
  return pathToFileURL(file);
}

