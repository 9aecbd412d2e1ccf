// The pure checks behind the HTTP hardening: bracket depth before parsing, NUL search in
// variables, variable defaults for the cost limit, overflowing JSON literals, Vary merging.
import { parse } from "graphql";
import { describe, expect, it } from "vitest";
import { effectiveVariables } from "../../src/graphql/cost.ts";
import { documentNestingError, nestingDepth } from "../../src/graphql/document-limits.ts";
import { mergeVary } from "../../src/graphql/http.ts";
import { findNul } from "../../src/graphql/text-input.ts";
import { overflowingLiteral, parseJsonLine } from "../../src/ingest/jsonl.ts";

describe("nestingDepth", () => {
  it("counts braces, brackets and parentheses", () => {
    expect(nestingDepth("{ a }")).toBe(1);
    expect(nestingDepth("{ a(x: [[1]]) { b } }")).toBe(4);
    expect(nestingDepth("[".repeat(3000), 64)).toBe(65);
  });
  it("skips strings, escaped quotes, block strings and comments", () => {
    expect(nestingDepth('{ a(s: "[[[\\"[[[") }')).toBe(2);
    expect(nestingDepth('{ a(s: """ {{{ \\""" [[[ """) }')).toBe(2);
    expect(nestingDepth("{ a # {{{{{{\n b }")).toBe(1);
  });
  it("is a parse error only past the limit", () => {
    expect(documentNestingError("{ a }")).toBeNull();
    expect(documentNestingError(42)).toBeNull();
    expect(documentNestingError("(".repeat(65))?.extensions.code).toBe("GRAPHQL_PARSE_FAILED");
  });
});

describe("findNul", () => {
  it("names where a NUL sits, at any depth, without recursion", () => {
    expect(findNul("ok", "$q")).toBeNull();
    expect(findNul({ a: [1, "x", { b: "y\u0000" }] }, "$f")).toBe("$f.a[2].b");
    let deep: unknown = "\u0000";
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(findNul(deep, "$v")).toMatch(/^\$v(\[0\]){100000}$/);
  });
});

describe("effectiveVariables", () => {
  const op = (src: string) => parse(src).definitions[0] as Parameters<typeof effectiveVariables>[0];
  it("fills left-out variables from the operation's defaults, keeping sent values and explicit nulls", () => {
    const o = op("query($n: Int = 1000, $m: Int = 5, $s: String = \"x\", $l: [Int] = [1, 2], $z: Int = 3) { a }");
    expect(effectiveVariables(o, { m: 2, z: null })).toEqual({ n: 1000, m: 2, s: "x", l: [1, 2], z: null });
    expect(effectiveVariables(o, undefined).n).toBe(1000);
  });
});

describe("overflowingLiteral", () => {
  it("finds the first number literal beyond float64, as written, outside strings", () => {
    expect(overflowingLiteral('{"a": "1e999", "b": [1, -2e400, 1e999]}')).toBe("-2e400");
    expect(overflowingLiteral('{"a": 1e308}')).toBeNull();
  });
  it("makes parseJsonLine name field and literal", () => {
    expect(() => parseJsonLine('{"x": {"v": [0, 1E+999]}}', "f.jsonl:3")).toThrow("f.jsonl:3: x.v[1]: 1E+999 is not a finite number");
    expect(parseJsonLine('{"t": "e999"}', "f:1")).toEqual({ t: "e999" });
  });
});

describe("mergeVary", () => {
  it("adds names once, keeping what is there", () => {
    expect(mergeVary("Origin", ["accept", "authorization"])).toBe("Origin, accept, authorization");
    expect(mergeVary(["Origin", "Accept"], ["accept"])).toBe("Origin, Accept");
    expect(mergeVary(undefined, ["accept"])).toBe("accept");
  });
});
