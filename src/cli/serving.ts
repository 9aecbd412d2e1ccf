// What `serve` and `demo` do around the HTTP server: share the embedded data dir with
// other local monoscope processes (the verb socket, recorded in the lock file), and on
// SIGTERM/SIGINT shut down gracefully: stop accepting, let in-flight requests and a
// running client verb finish within a bound, close the database (which releases the
// lock), remove the socket, log it, exit 0.
import type { App } from "../app.ts";
import { publishServer } from "../db/lock.ts";
import type { HttpServer } from "../graphql/http.ts";
import type { Logger } from "../logger.ts";
import { startVerbServer, type VerbServer } from "./remote/verb-server.ts";
import { verbProgram } from "./remote/verb-program.ts";

export { DEFAULT_SHUTDOWN_SECONDS } from "./defaults.ts";

/** Opens the verb socket and records it and the HTTP address in the lock (embedded backend only). */
export async function shareDataDir(app: App, http: HttpServer, log: Logger): Promise<VerbServer | null> {
  if (app.config.database.kind !== "pglite") return null;
  const verbs = await startVerbServer(app, { dataDir: app.config.dataDir, program: verbProgram, log });
  publishServer(app.config.database.dataDir, { url: http.url, port: Number(new URL(http.url).port), socket: verbs.socket });
  log.info(`other monoscope commands on this data dir run in this server (local socket ${verbs.socket})`);
  return verbs;
}

export interface Served {
  app: App;
  http: HttpServer;
  verbs: VerbServer | null;
  /** The server's own log (not routed to clients). */
  log: Logger;
  shutdownSeconds: number;
}

/** Resolves once a signal has shut everything down; a second signal exits at once. */
export function serveUntilSignal(s: Served): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        s.log.warn(`${signal} again: exiting without waiting for the shutdown to finish`);
        process.exit(signal === "SIGINT" ? 130 : 143);
      }
      stopping = true;
      void shutdown(s, signal).finally(() => {
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
        resolve();
      });
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  });
}

async function shutdown({ app, http, verbs, log, shutdownSeconds }: Served, signal: string): Promise<void> {
  const t0 = performance.now();
  const ms = shutdownSeconds * 1000;
  log.info(`${signal}: shutting down; letting in-flight requests finish (up to ${shutdownSeconds} s)`);
  const closing = http.close();
  const [httpDrained, verbDone] = await Promise.all([within(closing, ms), verbs ? verbs.close(ms) : Promise.resolve(true)]);
  if (!httpDrained) {
    log.warn(`requests still running after ${shutdownSeconds} s: closing their connections`);
    http.fastify.server.closeAllConnections();
    await within(closing, 1000);
  }
  if (!verbDone) log.warn(`a command run for a local client was still running after ${shutdownSeconds} s: it is cut off`);
  try {
    await app.close();
  } catch (e) {
    log.error("closing the database failed", { error: String(e) });
    throw e;
  }
  const where = app.config.database.kind === "pglite" ? "database closed, data dir lock released" : "database connections closed";
  log.info(`shut down in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${where}`);
}

/** true if p settles within ms. */
async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const settled = p.then(
    () => true,
    () => true,
  );
  const r = await Promise.race([settled, new Promise<boolean>((res) => (timer = setTimeout(() => res(false), ms)))]);
  clearTimeout(timer);
  return r;
}
