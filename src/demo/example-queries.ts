// Three queries printed by `monoscope demo` to get a reader started, pointed at a feature
// the build found to split cleanly (build-info.json "showcase"), else feature 0.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { DemoSae } from "./demo.types.ts";

export function showcaseFeature(dataDir: string, small: DemoSae): number {
  const file = join(dataDir, "build-info.json");
  if (!existsSync(file)) return 0;
  const info = JSON.parse(readFileSync(file, "utf8")) as { showcase?: { dSae: number; index: number } };
  return info.showcase?.dSae === small.dSae ? info.showcase.index : 0;
}

export function exampleQueries(saes: DemoSae[], feature: number): { title: string; query: string }[] {
  const small = saes[0].id;
  const next = (saes[1] ?? saes[0]).id;
  return [
    { title: "the family and its SAEs", query: `{ families { id saes { id dSae } } }` },
    {
      title: `feature ${feature} of ${small}: label, density and strongest contexts`,
      query: `{ feature(saeId: "${small}", index: ${feature}) { label density maxActivation topActivations(first: 3) { tokens maxValue } } }`,
    },
    {
      title: next === small ? "its nearest features (decoder cosine)" : `what it splits into in ${next} (decoder cosine)`,
      query: `{ nearestFeatures(saeId: "${small}", index: ${feature}, k: 4, saeIds: ["${next}"]) { cosine feature { id label topActivations(first: 1) { tokens } } } }`,
    },
  ];
}
