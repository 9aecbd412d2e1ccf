// Assets are found from the package root whether the code runs from src/ (here, under vitest) or
// from the compiled dist/, and the encoder workers start from both.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MIGRATIONS_DIR } from "../../src/db/migrate.ts";
import { DEFAULT_DEMO_DATA_DIR } from "../../src/demo/demo.types.ts";
import { IDE_DIR } from "../../src/graphql/ide.ts";
import { SCHEMA_PATH } from "../../src/graphql/schema.ts";
import { EncodePool } from "../../src/ingest/bulk/encode-pool.ts";
import { NATIVE_SCAN_PATH } from "../../src/kernel/native-scan.ts";
import { DEFAULT_WORD_VECTORS_DIR } from "../../src/modules/search/word-vectors.ts";
import { compiled, findPackageRoot, ownModuleUrl, packagePath, packageRoot } from "../../src/paths.ts";
import { DIST, ensureDist, ROOT } from "../helpers/dist.ts";

type Paths = typeof import("../../src/paths.ts");
type Pool = typeof EncodePool;

/** One small features job: two decoder rows of four dimensions. */
async function encodeTwoRows(start: Pool["start"]) {
  const pool = await start(1);
  expect(pool).not.toBeNull();
  try {
    const ctx = { saeId: "paths/test", dIn: 4, decoderField: "W_dec", encoderField: "W_enc" };
    const dec = Float32Array.from([1, 0, 0, 0, 0, 1, 0, 0]);
    return await pool!.encode({ ctx, file: "test.safetensors", start: 0, n: 2, dec, enc: null, bEnc: null, threshold: null, density: null });
  } finally {
    await pool!.close();
  }
}

describe("package paths from src/", () => {
  it("finds the package root and every asset under it", () => {
    expect(packageRoot).toBe(ROOT);
    expect(compiled).toBe(false);
    expect(SCHEMA_PATH).toBe(join(ROOT, "schema.graphql"));
    expect(existsSync(SCHEMA_PATH)).toBe(true);
    expect(MIGRATIONS_DIR).toBe(join(ROOT, "prisma", "migrations"));
    expect(existsSync(MIGRATIONS_DIR)).toBe(true);
    expect(existsSync(join(DEFAULT_DEMO_DATA_DIR, "build-info.json"))).toBe(true);
    expect(existsSync(DEFAULT_WORD_VECTORS_DIR)).toBe(true);
    expect(IDE_DIR).toBe(packagePath("dist", "ide"));
    expect(NATIVE_SCAN_PATH).toBe(packagePath("build", "native", "scan4.node"));
  });

  it("names its own modules as the .ts sources", () => {
    const url = ownModuleUrl("ingest/bulk/encode-worker.ts");
    expect(fileURLToPath(url)).toBe(join(ROOT, "src", "ingest", "bulk", "encode-worker.ts"));
  });

  it("starts the encoder workers", async () => {
    const r = await encodeTwoRows((n) => EncodePool.start(n));
    expect(r.decoders).toBe(2);
    expect(r.tuples.length).toBeGreaterThan(0);
  });
});

describe("findPackageRoot", () => {
  const dir = mkdtempSync(join(tmpdir(), "monoscope-paths-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("walks up to the nearest package.json", () => {
    mkdirSync(join(dir, "pkg", "dist", "cli"), { recursive: true });
    writeFileSync(join(dir, "pkg", "package.json"), "{}");
    expect(findPackageRoot(join(dir, "pkg", "dist", "cli"))).toBe(join(dir, "pkg"));
    expect(findPackageRoot(join(dir, "pkg"))).toBe(join(dir, "pkg"));
  });
});

describe("package paths from the compiled dist/", () => {
  let paths: Paths;
  beforeAll(async () => {
    ensureDist();
    paths = (await import(pathToFileURL(join(DIST, "paths.js")).href)) as Paths;
  }, 120_000);

  it("finds the same package root and names the compiled modules", () => {
    expect(paths.compiled).toBe(true);
    expect(paths.packageRoot).toBe(ROOT);
    const url = paths.ownModuleUrl("ingest/bulk/encode-worker.ts");
    expect(fileURLToPath(url)).toBe(join(DIST, "ingest", "bulk", "encode-worker.js"));
    expect(existsSync(url)).toBe(true);
  });

  it("starts the compiled encoder workers (plain JavaScript, no TypeScript loader)", async () => {
    const mod = (await import(pathToFileURL(join(DIST, "ingest", "bulk", "encode-pool.js")).href)) as { EncodePool: Pool };
    const r = await encodeTwoRows((n) => mod.EncodePool.start(n));
    expect(r.decoders).toBe(2);
  });
});
