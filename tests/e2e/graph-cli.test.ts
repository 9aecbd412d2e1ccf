// `monoscope ingest graph` and `monoscope export graph` as a user runs them: JSON summary on
// stdout, a refused file is one line "file: path: problem" on stderr with exit 1 and nothing
// stored, the same file again is a no-op, --replace replaces, and the export equals the file.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../helpers/backend.ts";
import { runCli, ROOT } from "../helpers/cli.ts";

const REAL = join(ROOT, "data/demo/graphs/circuit-tracer_gemma-3-1b_123.json");
const SLUG = "nnsight-123-gemma-3-1b-gemmascope2-16k";
let dir: string;
let db: TestDatabase;
const cli = (...args: string[]) => runCli(join(dir, "data"), db.env, args);
const graphs = () => JSON.parse(cli("query", "{ graphs { slug nodeCount linkCount } }").stdout).data.graphs;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "monoscope-graph-cli-"));
  db = await createTestDatabase();
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await db?.drop();
});

it("refuses a bad file with file: path: problem and stores nothing", () => {
  const doc = JSON.parse(readFileSync(REAL, "utf8"));
  doc.links[3].source = "0_404_1";
  const bad = join(dir, "bad.json");
  writeFileSync(bad, JSON.stringify(doc));
  const r = cli("ingest", "graph", bad);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(`${bad}: links[3].source: no node has id "0_404_1"`);
  expect(graphs()).toEqual([]);
  const flag = cli("ingest", "graph", REAL, "--sae-template", "no-placeholder");
  expect(flag.code).toBe(1);
  expect(flag.stderr).toMatch(/--sae-template: "no-placeholder" has no \{layer\} placeholder/);
}, 400_000);

it("ingests, is a no-op the second time, replaces with --replace, and exports the same file", () => {
  const first = cli("ingest", "graph", REAL, "--sae-for-layer", "0=gemma-3-1b/0-tc", "--sae-template", "gemma-3-1b/{layer}-tc");
  expect(first.code, first.stderr).toBe(0);
  expect(JSON.parse(first.stdout)).toMatchObject({ slug: SLUG, outcome: "created", nodes: 57, links: 221, mappedNodes: 40, linkedNodes: 0 });
  const again = cli("ingest", "graph", REAL, "--sae-for-layer", "0=gemma-3-1b/0-tc", "--sae-template", "gemma-3-1b/{layer}-tc");
  expect(JSON.parse(again.stdout)).toMatchObject({ outcome: "skipped" });
  // A different layer mapping is a different ingest: refused without --replace, then replaced.
  expect(cli("ingest", "graph", REAL).code).toBe(1);
  const replaced = cli("ingest", "graph", REAL, "--replace");
  expect(JSON.parse(replaced.stdout)).toMatchObject({ outcome: "replaced", mappedNodes: 0 });
  expect(graphs()).toEqual([{ slug: SLUG, nodeCount: 57, linkCount: 221 }]);
  const out = join(dir, "out.json");
  const exp = cli("export", "graph", SLUG, "--out", out);
  expect(exp.code, exp.stderr).toBe(0);
  expect(JSON.parse(readFileSync(out, "utf8"))).toEqual(JSON.parse(readFileSync(REAL, "utf8")));
  const missing = cli("export", "graph", "nope", "--out", out);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toMatch(/no graph with slug "nope"/);
  // Eight CLI runs, each opening the embedded database: minutes on a busy shared machine.
}, 400_000);

it("rm --graph deletes the graph with its nodes and links", () => {
  const r = cli("rm", "--graph", SLUG);
  expect(r.code, r.stderr).toBe(0);
  expect(JSON.parse(r.stdout)).toEqual({ graph: SLUG, deleted: true });
  expect(graphs()).toEqual([]);
  const again = cli("rm", "--graph", SLUG);
  expect(again.code).toBe(1);
  expect(again.stderr).toMatch(/--graph: no graph with slug/);
  expect(cli("rm").stderr).toMatch(/exactly one of --sae <id> or --graph <slug>/);
}, 400_000);
