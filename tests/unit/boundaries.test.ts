// The import boundaries of src/ (.dependency-cruiser.cjs: layers, module contract, no cycles,
// type-only imports included) hold: zero violations. A failure lists every offending import.
import { resolve } from "node:path";
import { cruise, type ICruiseResult } from "dependency-cruiser";
import extractDepcruiseOptions from "dependency-cruiser/config-utl/extract-depcruise-options";
import extractTSConfig from "dependency-cruiser/config-utl/extract-ts-config";
import { describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "..", "..");

describe("import boundaries", () => {
  it("src/ has no cycle, no upward import and no module reaching past another's service", async () => {
    const cwd = process.cwd();
    process.chdir(root);
    try {
      const options = await extractDepcruiseOptions(resolve(root, ".dependency-cruiser.cjs"));
      const tsConfig = extractTSConfig(resolve(root, "tsconfig.json"));
      const { output } = await cruise(["src"], { ...options, validate: true }, undefined, { tsConfig });
      const result = output as ICruiseResult;
      const violations = result.summary.violations.map((v) => {
        const via = v.cycle?.length ? ` (cycle: ${v.cycle.map((c) => c.name).join(" -> ")})` : "";
        return `${v.rule.name}: ${v.from} -> ${v.to}${via}`;
      });
      expect(violations, violations.join("\n")).toEqual([]);
      // The check really ran over the tree (a wrong path would cruise nothing and pass).
      expect(result.summary.totalCruised).toBeGreaterThan(150);
      expect(result.summary.ruleSetUsed?.forbidden?.length).toBeGreaterThanOrEqual(8);
    } finally {
      process.chdir(cwd);
    }
  });
});
