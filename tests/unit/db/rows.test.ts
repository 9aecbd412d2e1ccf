import { describe, expect, it } from "vitest";
import { z } from "zod";
import { CountRow, firstRow, int8, intArray, numberArray, onlyRow, parseRows, stringArray } from "../../../src/db/rows.ts";
import { checkK, checkPageSize } from "../../../src/modules/limits.ts";

const Row = z.object({ id: z.string(), n: z.number().int() });

describe("row parsers", () => {
  it("checks every row and returns typed values", () => {
    expect(parseRows(Row, [{ id: "a", n: 1 }, { id: "b", n: 2 }])).toEqual([{ id: "a", n: 1 }, { id: "b", n: 2 }]);
    expect(() => parseRows(Row, [{ id: "a", n: 1 }, { id: "b", n: "2" }])).toThrow();
    expect(() => parseRows(Row, { rows: [] })).toThrow(/no row array/);
  });

  it("accepts a hand-written typed mapper as a parser", () => {
    const upper = { parse: (r: unknown) => String((r as { s: unknown }).s).toUpperCase() };
    expect(parseRows(upper, [{ s: "x" }])).toEqual(["X"]);
  });

  it("reads the first row, or none, and insists on one when told", () => {
    expect(firstRow(CountRow, [])).toBeNull();
    expect(firstRow(CountRow, [{ n: 3 }, { n: 4 }])).toEqual({ n: 3 });
    expect(onlyRow(CountRow, [{ n: 0 }]).n).toBe(0);
    expect(() => onlyRow(CountRow, [])).toThrow(/returned none/);
  });

  it("reads int8 as the drivers return it, and refuses what is not a safe integer", () => {
    const S = z.object({ v: int8 });
    expect(S.parse({ v: "42" }).v).toBe(42);
    expect(S.parse({ v: 42n }).v).toBe(42);
    expect(() => S.parse({ v: "9007199254740993" })).toThrow(/safe integer/);
    expect(() => S.parse({ v: "4.5" })).toThrow(/safe integer/);
  });
});

describe("array columns", () => {
  it("accept arrays of the element type only", () => {
    expect(numberArray.parse([1, 2.5])).toEqual([1, 2.5]);
    expect(intArray.parse([])).toEqual([]);
    expect(stringArray.parse(["a"])).toEqual(["a"]);
    expect(numberArray.safeParse([1, null]).success).toBe(false);
    expect(numberArray.safeParse("1,2").success).toBe(false);
    expect(intArray.safeParse([1, 1.5]).success).toBe(false);
    expect(stringArray.safeParse(["a", 1]).success).toBe(false);
    expect(numberArray.nullable().parse(null)).toBeNull();
  });
});

describe("request limits", () => {
  const limits = { maxK: 50, maxPageSize: 100 };
  it("accepts k in 1..maxK and names the argument otherwise", () => {
    expect(checkK(limits, 1)).toBe(1);
    expect(checkK(limits, 50)).toBe(50);
    for (const bad of [0, 51, 2.5, Number.NaN]) expect(() => checkK(limits, bad, "first")).toThrow(/^first must be between 1 and 50/);
  });

  it("accepts a page size in 0..maxPageSize", () => {
    expect(checkPageSize(limits, 0)).toBe(0);
    expect(checkPageSize(limits, 100)).toBe(100);
    for (const bad of [-1, 101, 1.5]) expect(() => checkPageSize(limits, bad)).toThrow(/^first must be between 0 and 100/);
  });
});
