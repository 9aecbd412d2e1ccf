// Mutation.deleteSae over HTTP: refused without the API key, then removes the SAE and
// everything hanging off it; false for an unknown id.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTestApp, type TestApp } from "../../helpers/backend.ts";
import { startTestServer, type TestServer } from "../../helpers/http-server.ts";
import { rawQuery } from "../../helpers/row-counts.ts";

let t: TestApp;
let server: TestServer;
const KEY = "test-key-123456";

beforeAll(async () => {
  t = await openTestApp();
  await t.app.services.ingest.ingestSae(
    { model: { id: "del-model" }, sae: { id: "del-sae", architecture: "standard", dIn: 3, dSae: 4 }, source: { format: "test", path: "/tmp/x" }, contentHash: "h" },
    async (sink) => {
      await sink.features([0, 1, 2, 3].map((index) => ({ index, decoder: [1, index, 0] })));
      await sink.activations([{ index: 1, tokens: ["a"], values: [1] }]);
      await sink.explanations([{ index: 1, text: "a label" }]);
    },
  );
  server = await startTestServer(t.app, { apiKeys: [KEY] });
});
afterAll(async () => {
  await server.close();
  await t.close();
});

const mutation = { query: 'mutation { deleteSae(id: "del-sae") }' };

/** The partitions (pg_inherits children) that hold del-sae's rows, by parent table. */
async function partitionsOfSae(): Promise<string[]> {
  const rows = await rawQuery<{ parent: string }>(
    t.app.db,
    `SELECT p.relname AS parent FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
     WHERE pg_get_expr(c.relpartbound, c.oid) = $1 ORDER BY 1`,
    ["FOR VALUES IN ('del-sae')"],
  );
  return rows.map((r) => r.parent);
}
const PARTITIONED = ["activation", "activation_image", "explanation", "explanation_embedding", "explanation_score", "feature", "feature_dashboard", "lineage_edge", "search_document"];

describe("Mutation.deleteSae", () => {
  it("needs the API key like every mutation", async () => {
    const r = await server.post(mutation);
    expect(r.status).toBe(401);
    expect(r.json.errors[0].extensions.code).toBe("UNAUTHENTICATED");
    expect((await t.app.services.sae.saes({})).map((s) => s.id)).toEqual(["del-sae"]);
  });

  it("deletes the SAE with its rows and partitions, then answers false", async () => {
    expect(await partitionsOfSae()).toEqual(PARTITIONED);
    const [inOwn] = await rawQuery<{ n: number }>(t.app.db, "SELECT count(*)::int AS n FROM feature WHERE sae_id = 'del-sae' AND tableoid::regclass::text <> 'feature__default'");
    expect(inOwn!.n).toBe(4);
    if (t.db.backend === "postgres") {
      // The ingest analysed its own partition (reltuples stays -1 on a never-analysed table).
      const [stats] = await rawQuery<{ n: number }>(t.app.db, "SELECT reltuples::int AS n FROM pg_class WHERE relname = monoscope_partition_name('feature', 'del-sae')");
      expect(stats!.n).toBe(4);
    }
    const auth = { authorization: `Bearer ${KEY}` };
    const r = await server.post(mutation, auth);
    expect(r.json).toEqual({ data: { deleteSae: true } });
    expect(await t.app.services.sae.saes({})).toEqual([]);
    for (const table of ["feature", "activation", "explanation"]) {
      const [row] = await rawQuery<{ n: number }>(t.app.db, `SELECT count(*)::int AS n FROM ${table} WHERE sae_id = 'del-sae'`);
      expect(row!.n, table).toBe(0);
    }
    expect(await partitionsOfSae()).toEqual([]);
    expect((await server.post(mutation, auth)).json).toEqual({ data: { deleteSae: false } });
  });
});
