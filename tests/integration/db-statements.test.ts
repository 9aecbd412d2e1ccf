// The raw-driver statement path on both backends: checked rows, rows-changed counts, and
// transactions that commit together or not at all.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { openTestApp, type TestApp } from "../helpers/backend.ts";

let t: TestApp;
beforeAll(async () => {
  t = await openTestApp();
  await t.app.db.run`CREATE TABLE IF NOT EXISTS test_statements (id int PRIMARY KEY, label text NOT NULL)`;
  await t.app.db.run`DELETE FROM test_statements`;
});
afterAll(async () => {
  if (!t) return;
  await t.app.db.run`DROP TABLE IF EXISTS test_statements`;
  await t.close();
});

const Row = z.object({ id: z.number().int(), label: z.string() });

describe("db statements", () => {
  it("returns rows checked by the parser, and fails on a row of the wrong shape", async () => {
    expect(await t.app.db.run`INSERT INTO test_statements (id, label) SELECT i, 'l' || i FROM generate_series(1, 3) AS i`).toBe(3);
    expect(await t.app.db.rows(Row)`SELECT id, label FROM test_statements WHERE id >= ${2}::int ORDER BY id`).toEqual([
      { id: 2, label: "l2" },
      { id: 3, label: "l3" },
    ]);
    await expect(t.app.db.rows(Row)`SELECT id::text AS id, label FROM test_statements`).rejects.toThrow();
    expect(await t.app.db.run`UPDATE test_statements SET label = 'x' WHERE id > ${5}::int`).toBe(0);
  });

  it("commits a transaction's statements together, and rolls all of them back on an error", async () => {
    await t.app.db.sqlTransaction(async (tx) => {
      await tx.run`INSERT INTO test_statements (id, label) VALUES (${10}, 'ten')`;
      await tx.run`INSERT INTO test_statements (id, label) VALUES (${11}, 'eleven')`;
    });
    await expect(
      t.app.db.sqlTransaction(async (tx) => {
        await tx.run`INSERT INTO test_statements (id, label) VALUES (${12}, 'twelve')`;
        await tx.run`INSERT INTO test_statements (id, label) VALUES (${10}, 'duplicate')`;
      }),
    ).rejects.toThrow();
    const ids = (await t.app.db.rows(Row)`SELECT id, label FROM test_statements WHERE id >= 10 ORDER BY id`).map((r) => r.id);
    expect(ids).toEqual([10, 11]);
  });

  it("keeps a transaction-local setting inside its transaction only", async () => {
    const Setting = z.object({ v: z.string().nullable() });
    const inside = await t.app.db.sqlTransaction(async (tx) => {
      await tx.sql`SELECT set_config('monoscope.test_setting', ${"123"}, true)`;
      return (await tx.rows(Setting)`SELECT current_setting('monoscope.test_setting', true) AS v`)[0]!.v;
    });
    expect(inside).toBe("123");
    const after = (await t.app.db.rows(Setting)`SELECT current_setting('monoscope.test_setting', true) AS v`)[0]!.v;
    expect(after).not.toBe("123");
  });

  it("counts writes apart from reads (what lets the cost limit's stored sizes skip a look)", async () => {
    const w = () => t.app.db.stats.writes;
    let before = w();
    await t.app.db.sql`/* a comment */ SELECT count(*) FROM test_statements`;
    await t.app.db.sql`WITH x AS (SELECT id FROM test_statements) SELECT count(*) FROM x`;
    await t.app.db.prisma.$queryRaw`SELECT 1`;
    expect(w()).toBe(before);
    for (const write of [
      () => t.app.db.run`INSERT INTO test_statements (id, label) VALUES (${40}, 'forty')`,
      () => t.app.db.sql`WITH d AS (DELETE FROM test_statements WHERE id = ${40} RETURNING id) SELECT count(*) FROM d`,
      () => t.app.db.sql`SELECT nextval(pg_get_serial_sequence('explanation', 'id'))`,
      () => t.app.db.sqlTransaction(async (tx) => tx.sql`SELECT 1`),
      () => t.app.db.prisma.$executeRaw`UPDATE test_statements SET label = 'y' WHERE id = ${40}`,
    ]) {
      before = w();
      await write();
      expect(w()).toBeGreaterThan(before);
    }
  });
});
