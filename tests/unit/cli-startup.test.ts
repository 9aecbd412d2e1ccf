// `monoscope --help` (and a verb's --help) loads the argument parser and the commands' light
// modules only: no database client, GraphQL server, ONNX Runtime or LLM client. Checked on the
// compiled CLI (what users run) and on the tsx path (MONOSCOPE_DEV=1), by listing every module the
// process loaded: ES modules through a loader hook, CommonJS ones from require.cache at exit.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureDist, ROOT } from "../helpers/dist.ts";

const HEAVY = /node_modules\/(@apollo|@prisma|@electric-sql|pglite-prisma-adapter|onnxruntime-node|openai|pg|fastify|umap-js|graphql)\//;

const dir = mkdtempSync(join(tmpdir(), "monoscope-startup-"));
const hooks = join(dir, "hooks.mjs");
const preload = join(dir, "preload.mjs");
writeFileSync(hooks, `export async function load(url, context, next) {\n  if (url.startsWith("file:")) process.stderr.write("LOADED " + url + "\\n");\n  return next(url, context);\n}\n`);
writeFileSync(
  preload,
  [
    `import { register, createRequire } from "node:module";`,
    `register(${JSON.stringify(pathToFileURL(hooks).href)});`,
    `const require = createRequire(import.meta.url);`,
    `process.on("exit", () => { for (const f of Object.keys(require.cache)) process.stderr.write("LOADED " + f + "\\n"); });`,
  ].join("\n"),
);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function loadedBy(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ["--import", pathToFileURL(preload).href, join(ROOT, "bin", "monoscope.js"), ...args], {
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
  });
  const loaded = r.stderr.split("\n").filter((l) => l.startsWith("LOADED ")).map((l) => l.slice(7));
  return { code: r.status, stdout: r.stdout, loaded };
}

describe("CLI start-up", () => {
  beforeAll(() => ensureDist(), 120_000);

  for (const [label, env] of [["compiled dist/", {}], ["tsx (MONOSCOPE_DEV=1)", { MONOSCOPE_DEV: "1" }]] as const) {
    it(`--help and verbs' --help load no heavy module (${label})`, () => {
      for (const args of [["--help"], ["search", "--help"], ["ingest", "saelens", "--help"]]) {
        const r = loadedBy(args, env);
        expect(r.code, args.join(" ")).toBe(0);
        expect(r.stdout).toMatch(/Usage: monoscope/);
        expect(r.loaded.some((f) => f.includes("/commander/"))).toBe(true);
        expect(r.loaded.filter((f) => HEAVY.test(f)), args.join(" ")).toEqual([]);
        const fromDist = r.loaded.some((f) => f.includes(`${ROOT}/dist/cli/main.js`));
        expect(fromDist, "which build ran").toBe(label === "compiled dist/");
      }
    });
  }

  it("a verb that runs loads what it needs and no more (the check above can see heavy modules)", () => {
    const data = join(dir, "data");
    const r = loadedBy(["--data-dir", data, "query", "{ saes { id } }"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ data: { saes: [] } });
    expect(r.loaded.some((f) => f.includes("/@electric-sql/pglite/"))).toBe(true);
    expect(r.loaded.some((f) => f.includes("/graphql/"))).toBe(true);
    // In process, a query needs graphql-js, not Apollo Server; nor the LLM client, node-postgres
    // (the server backend), ONNX Runtime or umap-js.
    const unneeded = /node_modules\/(@apollo\/server|@graphql-tools|openai|pg|@prisma\/adapter-pg|onnxruntime-node|umap-js)\//;
    expect(r.loaded.filter((f) => unneeded.test(f))).toEqual([]);
  });
});
