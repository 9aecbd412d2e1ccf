// The safetensors reader: dtypes, row and strided-column reads, and the header checks
// that turn broken files into one-line errors before anything is written.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { toHalfBits, halfBitsToFloat } from "../../../src/shared/float16.ts";
import { SafetensorsFile } from "../../../src/ingest/saelens/safetensors.ts";
import { safetensorsHeader, writeSafetensors } from "../../../src/ingest/saelens/safetensors-writer.ts";

const dir = mkdtempSync(join(tmpdir(), "monoscope-st-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("float16", () => {
  it("rounds to nearest even and round-trips representable values", () => {
    for (const x of [0, 1, -2, 0.5, 65504, 6.103515625e-5, 5.960464477539063e-8, 0.333251953125]) {
      expect(halfBitsToFloat(toHalfBits(x))).toBe(x);
    }
    expect(toHalfBits(1 + 2 ** -11)).toBe(0x3c00); // tie -> even
    expect(toHalfBits(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(toHalfBits(70000)).toBe(0x7c00);
    expect(toHalfBits(-0)).toBe(0x8000);
    expect(Number.isNaN(halfBitsToFloat(toHalfBits(Number.NaN)))).toBe(true);
  });
});

describe("SafetensorsFile", () => {
  it("reads F32, F16 and BF16 rows and strided columns", async () => {
    const m = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]; // [3, 4]
    for (const dtype of ["F32", "F16", "BF16"] as const) {
      const p = join(dir, `m-${dtype}.safetensors`);
      await writeSafetensors(p, { m: { dtype, shape: [3, 4], data: m }, v: { dtype, shape: [2], data: [0.5, -0.25] } });
      const f = await SafetensorsFile.open(p);
      const t = f.require("m", [3, 4], "test");
      expect(Array.from(await f.readRows(t, 1, 2))).toEqual([5, 6, 7, 8, 9, 10, 11, 12]);
      expect(Array.from(await f.readColumns(t, 1, 2))).toEqual([2, 6, 10, 3, 7, 11]);
      expect(Array.from(await f.readRows(f.get("v")!, 0, 2))).toEqual([0.5, -0.25]);
      await f.close();
    }
  });

  const bad = async (name: string, bytes: Buffer) => {
    const p = join(dir, name);
    writeFileSync(p, bytes);
    return SafetensorsFile.open(p).then(
      () => "opened",
      (e: Error) => e.message,
    );
  };
  const header = (h: object) => {
    const json = Buffer.from(JSON.stringify(h));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(json.length));
    return Buffer.concat([len, json]);
  };

  it("rejects broken files with file: field: problem", async () => {
    expect(await bad("short.st", Buffer.from([1, 2, 3]))).toMatch(/short\.st: header: file is 3 bytes/);
    const big = Buffer.alloc(16);
    big.writeBigUInt64LE(1000n);
    expect(await bad("len.st", big)).toMatch(/len\.st: header: header length 1000 runs beyond the end of the file \(16 bytes/);
    expect(await bad("json.st", Buffer.concat([Buffer.from([4, 0, 0, 0, 0, 0, 0, 0]), Buffer.from("{x:1")]))).toMatch(/json\.st: header: is not valid JSON/);
    expect(await bad("dtype.st", header({ W: { dtype: "Q4", shape: [1], data_offsets: [0, 1] } }))).toMatch(/dtype\.st: W: unknown dtype "Q4"/);
    expect(await bad("span.st", Buffer.concat([header({ W: { dtype: "F32", shape: [2], data_offsets: [0, 4] } }), Buffer.alloc(4)]))).toMatch(
      /span\.st: W: data_offsets span 4 bytes, but F32 \[2\] needs 8/,
    );
    const trunc = Buffer.concat([safetensorsHeader({ W: { dtype: "F32", shape: [4] } }), Buffer.alloc(8)]);
    expect(await bad("trunc.st", trunc)).toMatch(/trunc\.st: W: data ends at byte \d+, beyond the end of the file/);
    expect(await bad("shape.st", header({ W: { dtype: "F32", shape: [-1], data_offsets: [0, 0] } }))).toMatch(/shape\.st: W: shape \[-1\]/);
  });

  it("names missing tensors and shape mismatches", async () => {
    const p = join(dir, "ok.safetensors");
    await writeSafetensors(p, { W_dec: { dtype: "F32", shape: [2, 3], data: [1, 2, 3, 4, 5, 6] } });
    const f = await SafetensorsFile.open(p);
    expect(() => f.require("W_enc", [3, 2], "cfg")).toThrow(/ok\.safetensors: W_enc: tensor is missing \(found: W_dec\)/);
    expect(() => f.require("W_dec", [2, 4], "cfg.json (d_sae 2, d_in 4)")).toThrow(
      /W_dec: shape \[2, 3\] does not match cfg\.json \(d_sae 2, d_in 4\): expected \[2, 4\]/,
    );
    await f.close();
  });
});
