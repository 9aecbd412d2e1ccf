// Settings for running several servers: read replicas, prepared statements behind a pooler,
// the matrix cache's byte budget and its default on a 24 GiB machine.
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.ts";
import { defaultMatrixCacheBytes, matrixBytesPerFeature } from "../../src/modules/geometry/matrix-cache.ts";
import { parseLsn } from "../../src/db/replica-health.ts";
import { requestLsn } from "../../src/graphql/read-routing.ts";

const PRIMARY = "postgresql://u@primary:5432/db";

describe("deployment settings", () => {
  it("reads DATABASE_READ_URLS, the lag bound and the check interval", () => {
    const c = loadConfig({
      DATABASE_URL: PRIMARY,
      DATABASE_READ_URLS: " postgresql://u@r1:5432/db, postgres://u@r2/db ,",
      MONOSCOPE_REPLICA_MAX_LAG_MS: "250",
    });
    expect(c.database).toMatchObject({
      kind: "postgres",
      preparedStatements: true,
      replicas: { urls: ["postgresql://u@r1:5432/db", "postgres://u@r2/db"], maxLagMs: 250, checkMs: 1000 },
    });
    expect(loadConfig({ DATABASE_URL: PRIMARY, MONOSCOPE_PREPARED_STATEMENTS: "off" }).database).toMatchObject({ preparedStatements: false });
  });

  it("names the field and the problem for a bad replica setting", () => {
    expect(() => loadConfig({ DATABASE_URL: PRIMARY, DATABASE_READ_URLS: "postgresql://ok/db,mysql://r2/db" })).toThrow(
      /DATABASE_READ_URLS\.1: every URL must start with postgresql:\/\//,
    );
    expect(() => loadConfig({ DATABASE_READ_URLS: "postgresql://r1/db" })).toThrow(/DATABASE_READ_URLS: read replicas need a primary: set DATABASE_URL/);
    expect(() => loadConfig({ DATABASE_URL: PRIMARY, MONOSCOPE_REPLICA_MAX_LAG_MS: "-1" })).toThrow(/MONOSCOPE_REPLICA_MAX_LAG_MS/);
  });

  it("reads MONOSCOPE_MATRIX_CACHE_BYTES (null: sized from memory) and refuses a non-integer", () => {
    expect(loadConfig({}).matrixCacheBytes).toBeNull();
    expect(loadConfig({ MONOSCOPE_MATRIX_CACHE_BYTES: "1073741824" }).matrixCacheBytes).toBe(2 ** 30);
    expect(() => loadConfig({ MONOSCOPE_MATRIX_CACHE_BYTES: "8GB" })).toThrow(/MONOSCOPE_MATRIX_CACHE_BYTES/);
  });

  it("sizes the default budget to hold a 1M × 2304 SAE on a 24 GiB machine", () => {
    const per = matrixBytesPerFeature(2304, true);
    // The float16 row with its 1/‖row‖, index and row (12 B); int8 codes with scale and rounding error
    // (8 B); 4-bit rows and their residual code (the certified scan's second tier): 2 × 18 × 68 B, and
    // their two rounding errors (8 B). No float32 row.
    expect(per).toBe(2 * 2304 + 12 + 2304 + 8 + 2 * 18 * 68 + 8);
    const need = 2 ** 20 * per;
    expect(defaultMatrixCacheBytes(24 * 2 ** 30)).toBeGreaterThan(need);
    // The earlier default (a third of memory) would have refused it.
    expect(Math.floor((24 * 2 ** 30) / 3)).toBeLessThan(need);
  });

  it("parses and checks LSNs", () => {
    expect(parseLsn("16/B374D848")).toBe((0x16n << 32n) + 0xb374d848n);
    expect(parseLsn("0/10") > parseLsn("0/F")).toBe(true);
    expect(requestLsn(undefined)).toEqual({ lsn: null });
    expect(requestLsn("0/3000060")).toEqual({ lsn: "0/3000060" });
    expect(requestLsn("0/3000060; DROP TABLE x")).toMatchObject({ error: expect.stringMatching(/Monoscope-LSN must be a PostgreSQL WAL position/) });
  });
});
