// Image activation examples end to end on each backend: native JSONL records with image
// files (generated PNG, JPEG and WebP of known sizes) and external urls; what is stored
// (content-addressed, once per content), ActivationExample.image, GET /images/<sha256>,
// errors that name file:line:field and store nothing, the export → import round trip, and
// removal of an SAE keeping images another SAE still shows.
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { executeQuery } from "../../../src/graphql/execute.ts";
import { importNativeActivations } from "../../../src/ingest/native/import-activations.ts";
import { importSaelens } from "../../../src/ingest/saelens/import-saelens.ts";
import { openTestApp, type TestApp } from "../../helpers/backend.ts";
import { startTestServer, type TestServer } from "../../helpers/http-server.ts";
import { jpeg, png, webp } from "../../helpers/images.ts";
import { rawQuery, rowCounts } from "../../helpers/row-counts.ts";
import { writeCheckpoint } from "../../helpers/saelens-fixture.ts";

let t: TestApp;
let server: TestServer;
const dir = mkdtempSync(join(tmpdir(), "monoscope-images-"));
const dSae = 16;
const SAES = ["img-a", "img-b", "img-c", "img-err"];
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const PNG = png(28, 14, 1);
const JPG = jpeg(64, 48);
const WEBP = webp(30, 20);
const grid = (rows: number, cols: number, peak: number) => Array.from({ length: rows * cols }, (_, i) => (i === peak ? 5 : (i % 7) / 10));

/** x: text records, image files (one shown twice), an external url, a feature record. */
function writeInput(): string {
  mkdirSync(join(dir, "in", "img"), { recursive: true });
  writeFileSync(join(dir, "in", "img", "a.png"), PNG);
  writeFileSync(join(dir, "in", "img", "b.jpg"), JPG);
  writeFileSync(join(dir, "in", "img", "c.webp"), WEBP);
  const lines = [
    { type: "feature", index: 3, density: 0.01, maxActivation: 5 },
    { index: 3, tokens: ["a", " cat"], values: [0.5, 2] },
    { type: "activation", index: 3, kind: "top", image: { file: "img/a.png", patchGrid: [2, 4] }, values: grid(2, 4, 6) },
    { index: 3, tokens: [], image: { file: "img/b.jpg", patchGrid: [3, 3] }, values: grid(3, 3, 4), kind: "quantile", binMin: 0.1, binMax: 0.9, source: "imagenet/17" },
    { index: 5, image: { file: "./img/a.png", patchGrid: [1, 2], width: 28, height: 14 }, values: [0.25, 1.5] },
    { index: 5, image: { file: "img/c.webp", patchGrid: [2, 2] }, values: grid(2, 2, 0) },
    { index: 7, image: { url: "https://example.org/x.png", width: 224, height: 224, patchGrid: [14, 14] }, values: grid(14, 14, 100) },
  ];
  const file = join(dir, "in", "x.jsonl");
  writeFileSync(file, lines.map((l) => JSON.stringify(l)).join("\n") + "\n");
  return file;
}

beforeAll(async () => {
  t = await openTestApp({ MONOSCOPE_MAX_COST: "1000000" });
  const ck = join(dir, "ck");
  await writeCheckpoint(ck, { dIn: 8, dSae, dtype: "F32" });
  for (const id of SAES) await importSaelens(t.app.services.ingest, { dir: ck, saeId: id });
  server = await startTestServer(t.app);
});
afterAll(async () => {
  await server?.close();
  await t?.close();
  rmSync(dir, { recursive: true, force: true });
});

const activations = (saeId: string) =>
  rawQuery(
    t.app.db,
    `SELECT a.feature_idx, a.ordinal, a.tokens, a."values", a.max_value, a.max_token_index, a.kind, a.bin_min, a.bin_max, a.source, a.text,
            i.image_sha256, i.url, i.width, i.height, i.patch_rows, i.patch_cols
     FROM activation a LEFT JOIN activation_image i USING (sae_id, feature_idx, ordinal)
     WHERE a.sae_id = $1 ORDER BY a.feature_idx, a.ordinal`,
    [saeId],
  );
const images = () => rawQuery<{ sha256: string; content_type: string; width: number; height: number }>(t.app.db, "SELECT sha256, content_type, width, height FROM example_image ORDER BY sha256");

const QUERY = `query($s: ID!, $i: Int!) { feature(saeId: $s, index: $i) {
  topActivations(first: 10) { tokens values maxValue maxTokenIndex kind text image { url width height patchRows patchCols } } } }`;

describe("image activation examples", () => {
  it("stores each image once by content and shows it in the API", async () => {
    const file = writeInput();
    const s = await importNativeActivations(t.app.services.ingest, { file, saeId: "img-a", workers: false });
    expect(s.activations).toBe(6);
    expect(await images()).toEqual(
      [
        { sha256: sha(PNG), content_type: "image/png", width: 28, height: 14 },
        { sha256: sha(JPG), content_type: "image/jpeg", width: 64, height: 48 },
        { sha256: sha(WEBP), content_type: "image/webp", width: 30, height: 20 },
      ].sort((a, b) => a.sha256.localeCompare(b.sha256)),
    );
    const rows = await activations("img-a");
    expect(rows.map((r) => [r.feature_idx, r.ordinal, r.image_sha256 ?? r.url, r.max_token_index, r.text])).toEqual([
      [3, 0, null, 1, "a cat"],
      [3, 1, sha(PNG), 6, ""],
      [3, 2, sha(JPG), 4, ""],
      [5, 0, sha(PNG), 1, ""],
      [5, 1, sha(WEBP), 0, ""],
      [7, 0, "https://example.org/x.png", 100, ""],
    ]);

    const r = await executeQuery(t.app, QUERY, { s: "img-a", i: 3 });
    expect(r.errors).toBeUndefined();
    // Top examples strongest first (the image's strongest patch, 5, beats the text's 2), then quantile samples.
    const acts = (r.data as any).feature.topActivations;
    expect(acts[0]).toMatchObject({ tokens: [], text: "", maxTokenIndex: 6, maxValue: 5, image: { url: `/images/${sha(PNG)}`, width: 28, height: 14, patchRows: 2, patchCols: 4 } });
    expect(acts[0].values).toHaveLength(8);
    expect(acts[1]).toMatchObject({ text: "a cat", image: null });
    expect(acts[2]).toMatchObject({ kind: "QUANTILE", image: { url: `/images/${sha(JPG)}`, width: 64, height: 48, patchRows: 3, patchCols: 3 } });
    const url = await executeQuery(t.app, QUERY, { s: "img-a", i: 7 });
    expect((url.data as any).feature.topActivations[0].image).toEqual({ url: "https://example.org/x.png", width: 224, height: 224, patchRows: 14, patchCols: 14 });
  });

  it("gives text auto-interpretation only the text examples", async () => {
    const ex = await t.app.services.examples.examplesOf("img-a", 3);
    expect(ex.map((e) => e.text)).toEqual(["a cat"]);
    const strongest = await t.app.services.examples.strongestContexts("img-a", [3, 5, 7]);
    expect(strongest.map((e) => [e.featureIndex, e.text])).toEqual([[3, "a cat"]]);
  });

  it("serves stored images by hash, immutable, and 404/400 otherwise", async () => {
    const ok = await fetch(`${server.url}/images/${sha(PNG)}`);
    expect(ok.status).toBe(200);
    expect(ok.headers.get("content-type")).toBe("image/png");
    expect(ok.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(Buffer.from(await ok.arrayBuffer()).equals(PNG)).toBe(true);
    expect((await fetch(`${server.url}/images/${sha(WEBP)}`)).headers.get("content-type")).toBe("image/webp");
    const missing = await fetch(`${server.url}/images/${"0".repeat(64)}`);
    expect(missing.status).toBe(404);
    for (const bad of ["abc", sha(PNG).toUpperCase(), `${sha(PNG)}.png`, "%00"]) {
      const r = await fetch(`${server.url}/images/${bad}`);
      expect(r.status, bad).toBe(400);
      expect(((await r.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe("BAD_USER_INPUT");
    }
  });

  it("names file:line:field for a bad image record and stores nothing", async () => {
    mkdirSync(join(dir, "bad"), { recursive: true });
    writeFileSync(join(dir, "bad", "fake.png"), Buffer.from("GIF89a not really"));
    writeFileSync(join(dir, "bad", "big.png"), png(64, 64, 9));
    writeFileSync(join(dir, "bad", "ok.png"), png(4, 4, 3));
    const ok = JSON.stringify({ index: 1, image: { file: "ok.png", patchGrid: [1, 1] }, values: [1] });
    const cases: [unknown, string][] = [
      [{ index: 1, image: { file: "fake.png", patchGrid: [1, 1] }, values: [1] }, "bad.jsonl:2: image.file: "],
      [{ index: 1, image: { file: "missing.png", patchGrid: [1, 1] }, values: [1] }, "bad.jsonl:2: image.file: cannot read"],
      [{ index: 1, image: { file: "big.png", patchGrid: [1, 1] }, values: [1] }, "over the 200-byte image limit"],
      [{ index: 1, image: { file: "ok.png", patchGrid: [2, 2] }, values: [1, 2, 3] }, "bad.jsonl:2: values: has 3 values for a 2 x 2 patch grid (4 patches)"],
      [{ index: 1, image: { file: "ok.png", patchGrid: [2] }, values: [1] }, "bad.jsonl:2: image.patchGrid: [2] is not [rows, cols]"],
      [{ index: 1, image: { file: "ok.png", patchGrid: [1, 1], width: 5 }, values: [1] }, "bad.jsonl:2: image.width: is 5, but ok.png is 4 x 4 pixels"],
      [{ index: 1, image: { url: "https://x.org/a.png", patchGrid: [1, 1] }, values: [1] }, "bad.jsonl:2: image.width: is required with a url"],
      [{ index: 1, image: { url: "file:///etc/passwd", width: 1, height: 1, patchGrid: [1, 1] }, values: [1] }, "bad.jsonl:2: image.url: \"file:///etc/passwd\" is not an http(s) URL"],
      [{ index: 1, image: { file: "ok.png", url: "https://x.org", patchGrid: [1, 1] }, values: [1] }, "bad.jsonl:2: image: needs exactly one of file"],
      [{ index: 1, image: { file: "/etc/passwd", patchGrid: [1, 1] }, values: [1] }, "bad.jsonl:2: image.file: \"/etc/passwd\" is not a path relative"],
      [{ index: 1, tokens: ["x"], image: { file: "ok.png", patchGrid: [1, 1] }, values: [1] }, "bad.jsonl:2: tokens: must be empty ([]) for an image example"],
      [{ index: 1, image: { file: "ok.png", patchGrid: [1, 1], colour: 1 }, values: [1] }, "bad.jsonl:2: image.colour: is not a field"],
    ];
    const before = await rowCounts(t.app.db);
    for (const [rec, msg] of cases) {
      const file = join(dir, "bad", "bad.jsonl");
      writeFileSync(file, `${ok}\n${JSON.stringify(rec)}\n`);
      for (const workers of [false, true]) {
        const e = await importNativeActivations(t.app.services.ingest, { file, saeId: "img-err", workers, imageMaxBytes: 200 }).catch((x: Error) => x);
        expect(e, JSON.stringify(rec)).toBeInstanceOf(Error);
        expect((e as Error).message).toContain(msg);
        expect((e as { code?: string }).code).toBe("BAD_USER_INPUT");
      }
    }
    expect(await rowCounts(t.app.db)).toEqual(before);
  });

  it("round-trips through export activations: import(export(import(x))) gives the same rows and images", async () => {
    const out = join(dir, "out", "a.jsonl.gz");
    const s = await t.app.services.exporter.nativeActivations("img-a", out);
    expect(s).toMatchObject({ activations: 6, images: 3, features: 1 });
    expect(readdirSync(join(dir, "out", "a.images")).sort()).toEqual([`${sha(JPG)}.jpg`, `${sha(PNG)}.png`, `${sha(WEBP)}.webp`].sort());
    // Through workers and small blocks too: same rows either way.
    await importNativeActivations(t.app.services.ingest, { file: out, saeId: "img-b", workers: false });
    await importNativeActivations(t.app.services.ingest, { file: out, saeId: "img-c", workers: true, blockBytes: 256 });
    const a = await activations("img-a");
    expect(await activations("img-b")).toEqual(a);
    expect(await activations("img-c")).toEqual(a);
    const stats = (id: string) => rawQuery(t.app.db, "SELECT idx, density, max_activation FROM feature WHERE sae_id = $1 AND idx = 3", [id]);
    expect(await stats("img-b")).toEqual(await stats("img-a"));
    expect((await images()).length).toBe(3);
    // Exporting the copy gives the same file content again.
    const again = join(dir, "out2", "b.jsonl");
    await t.app.services.exporter.nativeActivations("img-b", again);
    await importNativeActivations(t.app.services.ingest, { file: again, saeId: "img-c", replace: true });
    expect(await activations("img-c")).toEqual(a);
  });

  it("leaves image examples out of the Neuronpedia export (its layout has no place for them)", async () => {
    const s = await t.app.services.exporter.neuronpedia("img-a", join(dir, "np"));
    expect(s.activations).toBe(1);
  });

  it("removing an SAE drops only the images no other SAE shows", async () => {
    for (const id of ["img-a", "img-b"]) await t.app.services.ingest.removeSae(id);
    expect((await images()).length).toBe(3);
    // A replace that drops image examples drops their images too.
    const textOnly = join(dir, "text.jsonl");
    writeFileSync(textOnly, JSON.stringify({ index: 2, tokens: ["x"], values: [1] }) + "\n");
    await importNativeActivations(t.app.services.ingest, { file: textOnly, saeId: "img-c", replace: true });
    expect(await images()).toEqual([]);
    expect(await rawQuery(t.app.db, "SELECT * FROM activation_image")).toEqual([]);
  });
});
