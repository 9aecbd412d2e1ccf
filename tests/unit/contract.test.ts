// schema.graphql must keep the public GraphQL contract (nothing removed, renamed or
// made incompatible; defaults unchanged).
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { buildSchema, findBreakingChanges, findDangerousChanges } from "graphql";
import { describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..", "..");
const sharedTool = join(root, "..", "shared", "tools", "check-contract.mjs");

describe("public GraphQL contract", () => {
  it("schema.graphql keeps the vendored contract", () => {
    const contract = buildSchema(readFileSync(join(root, "tests/fixtures/api-contract.graphql"), "utf8"));
    const schema = buildSchema(readFileSync(join(root, "schema.graphql"), "utf8"));
    const breaking = findBreakingChanges(contract, schema).map((c) => c.description);
    const defaults = findDangerousChanges(contract, schema)
      .filter((c) => c.type === "ARG_DEFAULT_VALUE_CHANGE")
      .map((c) => c.description);
    expect([...breaking, ...defaults]).toEqual([]);
  });

  it.runIf(existsSync(sharedTool))("the workspace's check-contract tool passes", () => {
    const out = execFileSync(process.execPath, [sharedTool, "schema.graphql"], { cwd: root, encoding: "utf8" });
    expect(out).toContain("contract kept: 0 differences");
  });
});
