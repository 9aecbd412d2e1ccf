// Variables are bounded in how many values they carry, before anything walks or coerces them.
import { expect, it } from "vitest";
import { MAX_VARIABLE_VALUES, oversizedVariable } from "../../src/graphql/input-size.ts";

it("counts list items and input fields across all variables, at any depth", () => {
  expect(oversizedVariable({ v: new Array(MAX_VARIABLE_VALUES).fill(0) })).toBeNull();
  expect(oversizedVariable({ v: new Array(MAX_VARIABLE_VALUES + 1).fill(0) })).toEqual({ name: "v", count: MAX_VARIABLE_VALUES + 1 });
  expect(oversizedVariable({ a: [1, 2], b: { c: [[3, 4], [5]] } }, 8)).toBeNull();
  expect(oversizedVariable({ a: [1, 2], b: { c: [[3, 4], [5]] } }, 7)).toEqual({ name: "b", count: 8 });
  expect(oversizedVariable(undefined)).toBeNull();
  expect(oversizedVariable({ s: "x".repeat(1000), n: null })).toBeNull();
});
