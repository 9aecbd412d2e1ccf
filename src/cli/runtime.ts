// Shared CLI plumbing: config from env + global flags, opening the app, and turning
// errors into one clear line on stderr with a non-zero exit code.
import type { Command } from "commander";
import type { App, CreateAppOptions } from "../app.ts";
import type { Config } from "../config.ts";
import { isAppError, redactSecrets } from "../errors.ts";
import type { Logger } from "../logger.ts";

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

/** Opens the app (migrating first), runs fn, always closes. */
export async function withApp<T>(cmd: Command, fn: (app: App) => Promise<T>, options: CreateAppOptions = {}): Promise<T> {
  const g = globalOptions(cmd);
  const log = await cliLogger(g);
  // Loaded here, not at the top: `--help` and argument errors never open the database.
  const { createApp } = await import("../app.ts");
  const app = await createApp(await cliConfig(g), { log, ...options });
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
