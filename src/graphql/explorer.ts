// The explorer (src/web/, bundled by scripts/build-assets.mjs into dist/explorer at install time):
// one HTML shell for every app URL, so deep links and reloads work with the history API, and
// its static bundle. The app talks to the server only through /graphql and /export like any
// other client; nothing here reads the database.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { packagePath } from "../paths.ts";

export const EXPLORER_DIR = packagePath("dist", "explorer");
const ASSETS: Record<string, string> = { "app.js": "text/javascript; charset=utf-8", "app.css": "text/css; charset=utf-8" };

/** The app's own URLs (see src/web/router.ts); anything else keeps the server's 404. */
export const EXPLORER_ROUTES = ["/", "/sae/*", "/families/*", "/search", "/lists", "/lists/*", "/jobs", "/graphs", "/graphs/*"];

export function explorerBuilt(dir = EXPLORER_DIR): boolean {
  return Object.keys(ASSETS).every((f) => existsSync(join(dir, f)));
}

const SHELL = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Monoscope Explorer</title>
<link rel="stylesheet" href="/explorer/app.css">
</head>
<body>
<div id="root"><p>Loading the explorer…</p></div>
<script src="/explorer/app.js"></script>
</body>
</html>
`;

const MISSING = `<!doctype html><html lang="en"><meta charset="utf-8"><title>Monoscope</title>
<p>The explorer has not been built. Run <code>npm run build:assets</code> (it runs on <code>npm install</code>) and reload.
The query IDE is at <a href="/graphiql">/graphiql</a>, the GraphQL endpoint at <a href="/graphql">/graphql</a>.</p></html>`;

export function registerExplorerRoutes(fastify: FastifyInstance, dir = EXPLORER_DIR): void {
  const shell = async (_req: unknown, reply: import("fastify").FastifyReply) => {
    if (!explorerBuilt(dir)) return reply.code(503).type("text/html; charset=utf-8").send(MISSING);
    return reply.type("text/html; charset=utf-8").header("cache-control", "no-cache").send(SHELL);
  };
  for (const url of EXPLORER_ROUTES) fastify.get(url, shell);
  fastify.get<{ Params: { file: string } }>("/explorer/:file", async (request, reply) => {
    const type = ASSETS[request.params.file];
    const p = type ? join(dir, request.params.file) : null;
    if (!p || !existsSync(p)) return reply.code(404).send({ error: "not found" });
    return reply.type(type).header("cache-control", "no-cache").send(readFileSync(p));
  });
}
