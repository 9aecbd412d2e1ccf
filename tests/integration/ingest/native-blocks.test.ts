// Native activation JSONL read in many blocks and parsed/encoded in worker threads gives
// exactly the rows of the single-threaded path (ordinals per feature in file order,
// continuing from existing ones), and a bad record deep in a large file still fails with
// its one-line error and changes nothing.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { importNativeActivations } from "../../../src/ingest/native/import-activations.ts";
import { importSaelens } from "../../../src/ingest/saelens/import-saelens.ts";
import { openTestApp, type TestApp } from "../../helpers/backend.ts";
import { rawQuery, rowCounts } from "../../helpers/row-counts.ts";
import { writeCheckpoint } from "../../helpers/saelens-fixture.ts";

let t: TestApp;
const dir = mkdtempSync(join(tmpdir(), "monoscope-native-blocks-"));
const dSae = 40;
const WORDS = ["the", " cat", "Ġâ", "ĢĻ", "\"q\"", "tab\t", "日本", "😀", " x"];

function record(i: number): string {
  const n = 1 + ((i * 7) % 13);
  const tokens = Array.from({ length: n }, (_, j) => WORDS[(i + j * 5) % WORDS.length]!);
  const values = Array.from({ length: n }, (_, j) => (((i * 31 + j * 17) % 97) - 20) / 7.3);
  if (i % 11 === 0 && i / 11 < dSae) return JSON.stringify({ type: "feature", index: i / 11, density: 0.001 * (i % 7), maxActivation: 2 });
  if (i % 13 === 0) return JSON.stringify({ type: "explanation", index: (i * 3) % dSae, text: `label ${i}` });
  const quantile = i % 4 === 0;
  return JSON.stringify({ index: (i * 7919) % dSae, tokens, values, kind: quantile ? "quantile" : "top", binMin: quantile ? 0.5 : null, binMax: quantile ? 1.25 : null, source: i % 3 ? `doc-${i}` : undefined });
}

beforeAll(async () => {
  t = await openTestApp();
  const ck = join(dir, "ck");
  await writeCheckpoint(ck, { dIn: 8, dSae, dtype: "F32" });
  for (const id of ["blocks-a", "blocks-b", "blocks-c"]) await importSaelens(t.app.services.ingest, { dir: ck, saeId: id });
  // Existing examples: the import's ordinals continue after them.
  const first = join(dir, "first.jsonl");
  writeFileSync(first, Array.from({ length: 50 }, (_, i) => record(i * 2 + 1)).join("\n") + "\n");
  for (const id of ["blocks-a", "blocks-b", "blocks-c"]) await importNativeActivations(t.app.services.ingest, { file: first, saeId: id, workers: false });
});
afterAll(async () => {
  await t.close();
  rmSync(dir, { recursive: true, force: true });
});

const rows = (saeId: string) =>
  rawQuery(
    t.app.db,
    `SELECT feature_idx, ordinal, tokens, "values", max_value, max_token_index, kind, bin_min, bin_max, source, text FROM activation WHERE sae_id = $1 ORDER BY feature_idx, ordinal`,
    [saeId],
  );

describe("native activations in blocks and worker threads", () => {
  it("gives the single-threaded rows, ordinals included", async () => {
    // Blank lines and CRLF endings count as lines like any other.
    const lines = Array.from({ length: 3000 }, (_, i) => (i % 500 === 7 ? "" : record(i)));
    const file = join(dir, "many.jsonl.gz");
    writeFileSync(file, gzipSync(lines.join("\r\n") + "\n"));
    const ingest = t.app.services.ingest;
    const a = await importNativeActivations(ingest, { file, saeId: "blocks-a", workers: false });
    const b = await importNativeActivations(ingest, { file, saeId: "blocks-b", workers: true, blockBytes: 3000 });
    const c = await importNativeActivations(ingest, { file, saeId: "blocks-c", workers: false, blockBytes: 1500 });
    for (const s of [b, c]) expect({ ...s, saeId: "", seconds: 0, rowsPerSecond: 0 }).toEqual({ ...a, saeId: "", seconds: 0, rowsPerSecond: 0 });
    expect(a.activations).toBeGreaterThan(2000);
    const ra = await rows("blocks-a");
    expect(ra.length).toBeGreaterThan(a.activations);
    // Per feature: ordinals 0, 1, 2, ... with no gaps (the earlier import's first).
    const next = new Map<number, number>();
    for (const r of ra as { feature_idx: number; ordinal: number }[]) {
      expect(r.ordinal).toBe(next.get(r.feature_idx) ?? 0);
      next.set(r.feature_idx, r.ordinal + 1);
    }
    expect(await rows("blocks-b")).toEqual(ra);
    expect(await rows("blocks-c")).toEqual(ra);
    const expl = (saeId: string) => rawQuery(t.app.db, "SELECT feature_idx, text FROM explanation WHERE sae_id = $1 ORDER BY feature_idx, text", [saeId]);
    expect(await expl("blocks-b")).toEqual(await expl("blocks-a"));
  });

  it("reports a bad record deep in a large file on one line and changes nothing", async () => {
    const lines = Array.from({ length: 4000 }, (_, i) => record(i));
    lines[3456] = JSON.stringify({ index: 3, tokens: ["a", "b"], values: [1, "x"] });
    lines[3900] = "{not json"; // a later error is not the one reported
    const file = join(dir, "bad-deep.jsonl");
    writeFileSync(file, lines.join("\n") + "\n");
    const before = await rowCounts(t.app.db);
    for (const workers of [true, false]) {
      await expect(importNativeActivations(t.app.services.ingest, { file, saeId: "blocks-b", workers, blockBytes: 2048 })).rejects.toThrow(
        new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:3457: values\\[1\\]: "x" is not a finite number$`),
      );
      expect(await rowCounts(t.app.db)).toEqual(before);
    }
  });

  it("reports truncated gzip data after the last whole line read", async () => {
    const lines = Array.from({ length: 4000 }, (_, i) => record(i));
    const gz = gzipSync(lines.join("\n") + "\n");
    const file = join(dir, "truncated.jsonl.gz");
    writeFileSync(file, gz.subarray(0, Math.floor(gz.length * 0.6)));
    const before = await rowCounts(t.app.db);
    const errors: string[] = [];
    for (const workers of [true, false]) {
      const e = await importNativeActivations(t.app.services.ingest, { file, saeId: "blocks-b", workers, blockBytes: 2048 }).catch((x: Error) => x);
      expect(e).toBeInstanceOf(Error);
      errors.push((e as Error).message);
      expect(await rowCounts(t.app.db)).toEqual(before);
    }
    expect(errors[0]).toMatch(/truncated\.jsonl\.gz: gzip: corrupt or truncated compressed data after line \d+ /);
    expect(errors[1]).toBe(errors[0]);
  });
});
