// The local verb channel's request parsing and the verb names the server logs.
import { describe, expect, it } from "vitest";
import { parseVerbRequest, VERB_PROTOCOL } from "../../src/cli/remote/protocol.ts";
import { verbName } from "../../src/cli/remote/verb-server.ts";

describe("verb channel requests", () => {
  it("accepts argv and an absolute cwd", () => {
    expect(parseVerbRequest(JSON.stringify({ v: VERB_PROTOCOL, argv: ["rm", "--sae", "x"], cwd: "/home/u" }))).toEqual({ v: 1, argv: ["rm", "--sae", "x"], cwd: "/home/u" });
  });

  it.each([
    ["not json", "{", /not JSON/],
    ["not an object", "42", /not an object/],
    ["another protocol version", JSON.stringify({ v: 99, argv: [], cwd: "/" }), /protocol version 99 is not 1: client and server are different monoscope versions/],
    ["argv with a number", JSON.stringify({ v: 1, argv: ["rm", 3], cwd: "/" }), /argv must be a list of strings/],
    ["a relative cwd", JSON.stringify({ v: 1, argv: [], cwd: "here" }), /cwd must be an absolute path/],
  ])("refuses %s with the reason", (_name, line, reason) => {
    const r = parseVerbRequest(line as string);
    expect(typeof r).toBe("string");
    expect(r).toMatch(reason as RegExp);
  });
});

describe("verb names in the server's log", () => {
  it.each([
    [["--data-dir", "/d", "-q", "ingest", "saelens", "/secret/path", "--sae", "x"], "ingest saelens"],
    [["search", "private words"], "search"],
    [["rm", "--sae", "x"], "rm"],
    [["--data-dir", "ingest"], "(no verb)"],
  ])("%j -> %s (never argument values)", (argv, name) => {
    expect(verbName(argv as string[])).toBe(name);
  });
});
