// Shared CLI plumbing: config from env + global flags, opening the app, and turning
// errors into one clear line on stderr with a non-zero exit code. When a monoscope
// server holds the embedded data dir, withApp sends the verb to it (src/cli/remote).
import { resolve } from "node:path";
import type { Command } from "commander";
import type { App, CreateAppOptions } from "../app.ts";
import type { Config } from "../config.ts";
import { type LockHolder, lockHolder, type ServedBy } from "../db/lock.ts";
import { isAppError, redactSecrets } from "../errors.ts";
import type { Logger } from "../logger.ts";
import { currentClientRun } from "./remote/context.ts";
import type { GraphQLServer } from "./remote/http-verbs.ts";
import { RanOnServer, runVerbOnServer } from "./remote/verb-client.ts";

export interface GlobalOptions {
  dataDir?: string;
  verbose?: boolean;
  quiet?: boolean;
}

export function globalOptions(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals() as GlobalOptions;
}

// Config (zod) and the logger (pino) load when a verb runs, not at start-up: `--help` needs neither.
export async function cliLogger(g: GlobalOptions): Promise<Logger> {
  const { createCliLogger } = await import("../logger.ts");
  return createCliLogger(g.quiet ? "warn" : g.verbose ? "debug" : "info");
}

export async function cliConfig(g: GlobalOptions): Promise<Config> {
  const { loadConfig } = await import("../config.ts");
  return loadConfig(process.env, { dataDir: g.dataDir });
}

/** The live monoscope server that holds this embedded data dir, if any (never with DATABASE_URL). */
export function servingProcess(config: Config): (LockHolder & { server: ServedBy }) | null {
  if (config.database.kind !== "pglite" || currentClientRun()) return null;
  const holder = lockHolder(config.database.dataDir);
  if (!holder?.server || holder.pid === process.pid) return null;
  return holder as LockHolder & { server: ServedBy };
}

/** The /graphql of the server that holds the embedded data dir (for read verbs), with this environment's API key; else null. */
export async function servingApi(cmd: Command): Promise<GraphQLServer | null> {
  const config = await cliConfig(globalOptions(cmd));
  const holder = servingProcess(config);
  return holder ? { holder, apiKey: config.server.apiKeys[0] ?? null } : null;
}

/**
 * Opens the app (migrating first), runs fn, always closes. When a server holds the
 * embedded data dir, the whole verb runs in that server instead (the rest of the action
 * is skipped; the process exits with the verb's code); inside that server, fn gets the
 * server's own app.
 */
export async function withApp<T>(cmd: Command, fn: (app: App) => Promise<T>, options: CreateAppOptions = {}): Promise<T> {
  const g = globalOptions(cmd);
  const run = currentClientRun();
  if (run) {
    run.log = await cliLogger(g);
    return fn(run.app);
  }
  const config = await cliConfig(g);
  const server = servingProcess(config);
  if (server) throw new RanOnServer(await runVerbOnServer(server, process.argv.slice(2), process.cwd()));
  const log = await cliLogger(g);
  // Loaded here, not at the top: `--help` and argument errors never open the database.
  const { createApp } = await import("../app.ts");
  const app = await createApp(config, { log, ...options });
  const onSignal = () => {
    void app.close().finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    return await fn(app);
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await app.close();
  }
}

/** Prints a one-line error for user-fixable problems, a short report for bugs. */
export function reportError(e: unknown): number {
  if (e instanceof RanOnServer) return e.exitCode;
  if (isAppError(e)) {
    process.stderr.write(`monoscope: error: ${redactSecrets(e.message)}\n`);
    return 1;
  }
  const err = e as Error;
  if (err && (err as { code?: string }).code?.startsWith?.("commander.")) return 1;
  process.stderr.write(`monoscope: internal error: ${redactSecrets(err?.stack ?? String(e))}\n`);
  return 2;
}

/** Parses an integer option, with a clear error naming the flag. */
export function intOption(flag: string, min = 0) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) {
      throw new (class extends Error {
        code = "commander.invalidArgument";
      })(`${flag} must be an integer >= ${min}, got ${JSON.stringify(value)}`);
    }
    return n;
  };
}

/** A path argument, resolved against the caller's working directory (the client's, for a verb run in a server). */
export function cliPath(path: string): string {
  return resolve(currentClientRun()?.cwd ?? process.cwd(), path);
}

/** Sets the verb's exit code (the client's, for a verb run in a server, never the server's own). */
export function setExitCode(code: number): void {
  const run = currentClientRun();
  if (run) run.exitCode = code;
  else process.exitCode = code;
}
