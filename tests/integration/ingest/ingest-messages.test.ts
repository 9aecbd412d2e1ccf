// What ingest says when a file or an option is wrong: it names what the file says and
// every missing option at once, refuses SAE ids that would make feature ids ambiguous,
// and gives no advice that does not apply. Both backends; nothing is changed by a refusal.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../../../src/app.ts";
import { executeQuery } from "../../../src/graphql/execute.ts";
import { importNativeActivations } from "../../../src/ingest/native/import-activations.ts";
import { importNeuronpedia } from "../../../src/ingest/neuronpedia/import-neuronpedia.ts";
import { importSaelens } from "../../../src/ingest/saelens/import-saelens.ts";
import { createTestDatabase, type TestDatabase } from "../../helpers/backend.ts";
import { seedFeatures } from "../../helpers/feature-seed.ts";
import { captureLogger } from "../../helpers/http-server.ts";
import { rowCounts } from "../../helpers/row-counts.ts";

const CORPUS = join(import.meta.dirname, "..", "..", "fixtures", "malformed");
const REAL_BATCH = join(import.meta.dirname, "..", "..", "fixtures", "saedashboard", "gpt2-small-0-res-jb-batch-0.json");
const dir = mkdtempSync(join(tmpdir(), "monoscope-msg-"));
const log = captureLogger();
let db: TestDatabase;
let app: Awaited<ReturnType<typeof createApp>>;

beforeAll(async () => {
  db = await createTestDatabase();
  app = await createApp(db.config, { memory: db.backend === "pglite", log });
  await importSaelens(app.services.ingest, { dir: join(CORPUS, "_base"), saeId: "msg-base" });
});
afterAll(async () => {
  await app?.close();
  await db?.drop();
  rmSync(dir, { recursive: true, force: true });
});

describe("numbers beyond float64 in JSONL", () => {
  it.each([
    ["1e999", "1e999", 1],
    ["-1e999", "-1e999", 0],
    ["a 401-digit integer", "1" + "0".repeat(400), 1],
  ])("names the literal (%s), its line and field", async (_label, literal, at) => {
    const file = join(dir, `acts-${literal.length}-${at}.jsonl`);
    const values = at === 1 ? `[0.5, ${literal}]` : `[${literal}, 0.5]`;
    writeFileSync(file, `{"index": 1, "tokens": ["a", "b"], "values": [0.5, 1]}\n{"index": 2, "tokens": ["e999", "1e999"], "values": ${values}}\n`);
    const before = await rowCounts(app.db);
    const err = await importNativeActivations(app.services.ingest, { file, saeId: "msg-base" }).catch((e) => e);
    expect(err.code).toBe("BAD_USER_INPUT");
    expect(err.message).toBe(`${file}:2: values[${at}]: ${literal} is not a finite number (it is beyond the range of a 64-bit float)`);
    expect(await rowCounts(app.db)).toEqual(before);
  });

  it("leaves such text inside strings alone", async () => {
    const file = join(dir, "acts-in-strings.jsonl");
    writeFileSync(file, `{"index": 3, "tokens": ["1e999", "x"], "values": [0.25, 1]}\n`);
    await expect(importNativeActivations(app.services.ingest, { file, saeId: "msg-base" })).resolves.toMatchObject({ activations: 1 });
  });
});

describe("SAE ids", () => {
  it("refuses a new SAE id containing ':' (Feature.id would be ambiguous), changing nothing", async () => {
    const before = await rowCounts(app.db);
    const err = await importSaelens(app.services.ingest, { dir: join(CORPUS, "_base"), saeId: "bad:colon" }).catch((e) => e);
    expect(err.code).toBe("BAD_USER_INPUT");
    expect(err.message).toMatch(/sae id "bad:colon" is not valid: it must not contain ":"/);
    expect(await rowCounts(app.db)).toEqual(before);
  });

  it("keeps an SAE stored earlier with ':' in its id readable", async () => {
    await seedFeatures(app, { n: 3, saeId: "old:colon", modelId: "old-model" });
    const r = await executeQuery(app, `{ feature(saeId: "old:colon", index: 2) { id index } sae(id: "old:colon") { id } }`);
    expect(r.errors).toBeUndefined();
    expect(r.data).toEqual({ feature: { id: "old:colon:2", index: 2 }, sae: { id: "old:colon" } });
  });
});

describe("Neuronpedia batch without decoders", () => {
  it("reports every missing option in one error", async () => {
    const err = await importNeuronpedia(app.services.ingest, { path: REAL_BATCH }).catch((e) => e);
    expect(err.code).toBe("BAD_USER_INPUT");
    expect(err.message).toMatch(/^--d-in: required \(.*\); --d-sae: required \(.*\)$/);
    expect(err.message).not.toMatch(/\n/);
    const one = await importNeuronpedia(app.services.ingest, { path: REAL_BATCH, dSae: 24576 }).catch((e) => e);
    expect(one.message).toMatch(/^--d-in: required/);
    expect(one.message).not.toMatch(/--d-sae/);
  });

  it("does not suggest `monoscope map` for an SAE with no decoders to map", async () => {
    const before = log.lines.length;
    const s = await importNeuronpedia(app.services.ingest, { path: REAL_BATCH, dIn: 768, dSae: 24576, saeId: "msg/np-batch" });
    expect(s.outcome).toBe("created");
    const said = log.lines.slice(before).map((l) => l.msg).join("\n");
    expect(said).not.toMatch(/monoscope map/);
  });
});
