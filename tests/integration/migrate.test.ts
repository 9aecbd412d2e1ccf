// Migrations apply on both backends, re-running is a no-op, and they are recorded
// in Prisma's own bookkeeping table.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appliedMigrations, listMigrations, migrate, pendingMigrations } from "../../src/db/migrate.ts";
import { openTestApp, type TestApp } from "../helpers/backend.ts";

let t: TestApp;
beforeAll(async () => {
  t = await openTestApp();
});
afterAll(async () => t?.close());

describe("migrate", () => {
  it("applies every migration once and records it", async () => {
    const applied = await appliedMigrations(t.app.db);
    expect([...applied.keys()]).toEqual(listMigrations().map((m) => m.name));
    expect(await pendingMigrations(t.app.db)).toEqual([]);
  });

  it("is a no-op the second time", async () => {
    const r = await migrate(t.app.db);
    expect(r.applied).toEqual([]);
    expect(r.alreadyApplied).toBe(listMigrations().length);
  });

  it("creates the tables, pgvector and pg_trgm", async () => {
    const rows = await t.app.db.prisma.$queryRaw<{ extname: string }[]>`SELECT extname FROM pg_extension ORDER BY extname`;
    const names = rows.map((r) => r.extname);
    expect(names).toContain("vector");
    expect(names).toContain("pg_trgm");
    const tables = await t.app.db.prisma.$queryRaw<{ tablename: string }[]>`
      SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`;
    expect(tables.map((r) => r.tablename)).toEqual(
      expect.arrayContaining(["model", "sae_family", "sae", "feature", "activation", "explanation", "lineage_edge", "job", "job_item"]),
    );
  });

  it("stores and compares halfvec decoder rows", async () => {
    const p = t.app.db.prisma;
    await p.model.create({ data: { id: "m", name: "m", dModel: 3 } });
    await p.sae.create({ data: { id: "m/s", name: "s", modelId: "m", architecture: "standard", dIn: 3, dSae: 2, status: "ready" } });
    await p.$executeRaw`INSERT INTO feature (sae_id, idx, decoder) VALUES ('m/s', 0, '[1,0,0]'::halfvec), ('m/s', 1, '[0.6,0.8,0]'::halfvec)`;
    const rows = await p.$queryRaw<{ cos: number }[]>`
      SELECT 1 - (a.decoder <=> b.decoder) AS cos FROM feature a, feature b WHERE a.idx = 0 AND b.idx = 1`;
    expect(rows[0].cos).toBeCloseTo(0.6, 3);
  });
});
