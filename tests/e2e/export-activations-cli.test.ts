// `monoscope export activations` and `ingest activations` with image examples, as a user runs
// them: JSON on stdout, images written beside the export, the export read back into another
// SAE giving the same examples, and a bad image record failing with a one-line error.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../helpers/backend.ts";
import { runCli } from "../helpers/cli.ts";
import { png, webp } from "../helpers/images.ts";
import { writeCheckpoint } from "../helpers/saelens-fixture.ts";

let dir: string;
let db: TestDatabase;
const cli = (args: string[]) => runCli(join(dir, "data"), db.env, args);
const QUERY = `query($s: ID!) { feature(saeId: $s, index: 2) { topActivations(first: 10) { tokens values maxTokenIndex kind text image { url width height patchRows patchCols } } } }`;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "monoscope-export-acts-"));
  db = await createTestDatabase();
  await writeCheckpoint(join(dir, "ck"), { dIn: 8, dSae: 6, dtype: "F32" });
  for (const id of ["cli/a", "cli/b"]) expect(cli(["-q", "ingest", "saelens", join(dir, "ck"), "--sae", id]).code).toBe(0);
  mkdirSync(join(dir, "in", "img"), { recursive: true });
  writeFileSync(join(dir, "in", "img", "p.png"), png(16, 8, 2));
  writeFileSync(join(dir, "in", "img", "w.webp"), webp(40, 40));
  const lines = [
    { index: 2, tokens: ["a", " b"], values: [0.5, 1] },
    { index: 2, image: { file: "img/p.png", patchGrid: [2, 4] }, values: [0, 1, 2, 3, 4, 5, 6, 7] },
    { index: 2, kind: "quantile", binMin: 0, binMax: 1, image: { file: "img/w.webp", patchGrid: [1, 1] }, values: [0.5] },
    { index: 2, image: { url: "https://example.org/z.jpg", width: 10, height: 20, patchGrid: [1, 2] }, values: [0.1, 0.2] },
  ];
  writeFileSync(join(dir, "in", "acts.jsonl"), lines.map((l) => JSON.stringify(l)).join("\n") + "\n");
}, 180_000);
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await db.drop();
});

it("exports activations with their images and reads the export back into another SAE", () => {
  const imp = cli(["-q", "ingest", "activations", join(dir, "in", "acts.jsonl"), "--sae", "cli/a"]);
  expect(imp.code, imp.stderr).toBe(0);
  const out = join(dir, "out", "a.jsonl.gz");
  const exp = cli(["-q", "export", "activations", "--sae", "cli/a", "--out", out]);
  expect(exp.code, exp.stderr).toBe(0);
  expect(JSON.parse(exp.stdout)).toMatchObject({ saeId: "cli/a", activations: 4, images: 2 });
  expect(existsSync(out)).toBe(true);
  const back = cli(["-q", "ingest", "activations", out, "--sae", "cli/b"]);
  expect(back.code, back.stderr).toBe(0);
  const read = (s: string) => {
    const r = cli(["query", QUERY, "--variables", JSON.stringify({ s })]);
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout).data.feature.topActivations;
  };
  const a = read("cli/a");
  expect(a.map((x: { image: { url: string } | null }) => x.image?.url.slice(0, 8) ?? null)).toEqual(["/images/", null, "https://", "/images/"]);
  expect(read("cli/b")).toEqual(a);
  expect(cli(["-q", "export", "activations", "--sae", "no/such", "--out", join(dir, "x.jsonl")]).stderr).toMatch(/SAE "no\/such" not found/);
}, 180_000);

it("stops at a bad image record with a one-line error naming file:line:field", () => {
  const file = join(dir, "in", "bad.jsonl");
  writeFileSync(file, JSON.stringify({ index: 1, image: { file: "acts.jsonl", patchGrid: [1, 1] }, values: [1] }) + "\n");
  const r = cli(["-q", "ingest", "activations", file, "--sae", "cli/a"]);
  expect(r.code).toBe(1);
  expect(r.stderr.trim().split("\n")).toHaveLength(1);
  expect(r.stderr).toContain(`${file}:1: image.file: `);
  expect(r.stderr).toContain("is not a PNG, JPEG or WebP image");
}, 120_000);
