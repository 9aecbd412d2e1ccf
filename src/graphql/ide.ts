// The query IDE at the server root: a small HTML page around the GraphiQL bundle that
// scripts/build-assets.mjs builds into dist/ide at install time, with example
// queries filled in for an SAE that exists in this database.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { packagePath } from "../paths.ts";

export const IDE_DIR = packagePath("dist", "ide");
export const IDE_ASSETS: Record<string, string> = { "ide.js": "text/javascript; charset=utf-8", "ide.css": "text/css; charset=utf-8" };

export function ideBuilt(dir = IDE_DIR): boolean {
  return Object.keys(IDE_ASSETS).every((f) => existsSync(join(dir, f)));
}

export function readIdeAsset(name: string, dir = IDE_DIR): Buffer | null {
  if (!(name in IDE_ASSETS)) return null;
  const p = join(dir, name);
  return existsSync(p) ? readFileSync(p) : null;
}

export interface Example {
  query: string;
  variables?: Record<string, unknown>;
}

export function examples(saeId: string, familyId: string | null): Example[] {
  return [
    {
      query: `# Monoscope: one example per tab; run with ▶ (Ctrl-Enter).\n# What is in this database:\nquery Overview {\n  models { id name dModel }\n  saes { id name architecture dIn dSae featureCount family { id } }\n}\n`,
    },
    {
      query: `# One feature with what a dashboard shows.\nquery Feature($saeId: ID!, $index: Int!) {\n  feature(saeId: $saeId, index: $index) {\n    id label density maxActivation\n    umap { x y }\n    neuronAlignment { neuron cosine }\n    logits { positive { token value } negative { token value } }\n    histograms { activationDensity { values heights } }\n    topActivations(first: 5) { kind maxValue text }\n  }\n}\n`,
      variables: { saeId, index: 0 },
    },
    {
      query: `# Page through features, densest first (pass pageInfo.endCursor as $after for the next page).\nquery Features($saeId: ID!, $after: String) {\n  features(saeId: $saeId, first: 20, after: $after, orderBy: DENSITY_DESC) {\n    totalCount\n    edges { node { index density maxActivation label } }\n    pageInfo { hasNextPage endCursor }\n  }\n}\n`,
      variables: { saeId, after: null },
    },
    {
      query: `# Features whose decoder directions are closest to a feature's.\nquery Neighbours($saeId: ID!, $index: Int!) {\n  nearestFeatures(saeId: $saeId, index: $index, k: 10) {\n    cosine\n    feature { id label density }\n  }\n}\n`,
      variables: { saeId, index: 0 },
    },
    {
      query: `# Concept search over labels and activating text.\nquery Search($q: String!) {\n  searchConcepts(query: $q, k: 10) {\n    score matchedText\n    feature { id label }\n  }\n}\n`,
      variables: { q: "animals" },
    },
    {
      query: `# A feature's place in its family's size ladder${familyId ? ` (family ${familyId})` : ""}.\nquery Lineage($saeId: ID!, $index: Int!) {\n  splitLineage(saeId: $saeId, index: $index, direction: BOTH, depth: 2) {\n    split origin\n    feature { id label }\n    parents { cosine feature { id label } }\n    children { cosine split feature { id label } }\n  }\n}\n`,
      variables: { saeId, index: 0 },
    },
  ];
}

const escapeJson = (v: unknown) => JSON.stringify(v).replace(/</g, "\\u003c");

export function idePage(ex: Example[]): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Monoscope · GraphQL</title>
<link rel="stylesheet" href="ide/ide.css">
<style>html, body, #graphiql { height: 100%; margin: 0; }</style>
</head>
<body>
<div id="graphiql">Loading the query IDE…</div>
<script type="application/json" id="examples">${escapeJson(ex)}</script>
<script src="ide/ide.js"></script>
</body>
</html>
`;
}

export const IDE_MISSING_PAGE = `<!doctype html><meta charset="utf-8"><title>Monoscope</title>
<p>The query IDE has not been built. Run <code>npm run build:assets</code> (it runs on <code>npm install</code>) and reload.
The GraphQL endpoint is at <a href="graphql">/graphql</a>.</p>`;
