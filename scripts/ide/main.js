// The offline query IDE: GraphiQL 4 (CodeMirror 5, no web workers) with React from
// node_modules, bundled by scripts/build-assets.mjs into dist/ide/. No CDN, no import
// maps. The server injects example queries as JSON into the page (#examples).
import { GraphiQL } from "graphiql";
import "graphiql/style.css";
import React from "react";
import { createRoot } from "react-dom/client";

const endpoint = new URL("graphql", document.baseURI).toString();

async function fetcher(params, opts) {
  const res = await fetch(endpoint, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/graphql-response+json, application/json", ...(opts?.headers ?? {}) },
    body: JSON.stringify(params),
  });
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch {
    return { errors: [{ message: `HTTP ${res.status}: ${text.slice(0, 200)}` }] };
  }
}

const examples = JSON.parse(document.getElementById("examples")?.textContent ?? "[]");
const tabs = examples.map((e) => ({ query: e.query, variables: e.variables ? JSON.stringify(e.variables, null, 2) : undefined }));

createRoot(document.getElementById("graphiql")).render(
  React.createElement(GraphiQL, {
    fetcher,
    defaultTabs: tabs.length ? tabs : undefined,
    defaultEditorToolsVisibility: true,
    shouldPersistHeaders: false,
  }),
);
