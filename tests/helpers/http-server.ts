// Starts the real HTTP server on a loopback port for one test file, optionally with
// server settings overridden (several servers can share one app and database).
import type { App } from "../../src/app.ts";
import type { Config } from "../../src/config.ts";
import { type HttpServer, startHttpServer } from "../../src/graphql/http.ts";
import type { Logger } from "../../src/logger.ts";

export interface TestServer extends HttpServer {
  graphql: string;
  post(body: unknown, headers?: Record<string, string>): Promise<{ status: number; headers: Headers; json: any }>;
}

export async function startTestServer(app: App, server: Partial<Config["server"]> = {}, log?: Logger): Promise<TestServer> {
  const config = { ...app.config, server: { ...app.config.server, ...server } } as Config;
  const s = await startHttpServer({ ...app, config, log: log ?? app.log }, { port: 0, host: "127.0.0.1" });
  const graphql = `${s.url}/graphql`;
  return {
    ...s,
    graphql,
    // A test that failed midway can leave a browser page or client holding a request open, and a
    // graceful close would wait for it forever (hiding the failure behind a test timeout): after
    // a short grace the remaining connections are cut.
    async close() {
      const closing = s.close();
      const cut = setTimeout(() => s.fastify.server.closeAllConnections(), 2000);
      try {
        await closing;
      } finally {
        clearTimeout(cut);
      }
    },
    async post(body, headers = {}) {
      const r = await fetch(graphql, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
      const text = await r.text();
      return { status: r.status, headers: r.headers, json: text ? JSON.parse(text) : null };
    },
  };
}

/** A logger that keeps what it is given, for asserting on access-log lines. */
export function captureLogger(): Logger & { lines: { level: string; msg: string; [k: string]: unknown }[] } {
  const lines: { level: string; msg: string }[] = [];
  const at = (level: string) => (msg: string, fields?: Record<string, unknown>) => void lines.push({ level, msg, ...fields });
  return { lines, debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}
