// Shared CLI plumbing: config from env + global flags, opening the app, and turning
// errors into one clear line on stderr with a non-zero exit code.
import type { Command } from "commander";
import { type App, createApp, type CreateAppOptions } from "../app.ts";
import { type Config, loadConfig } from "../config.ts";
import { isAppError, redactSecrets } from "../errors.ts";
import { createCliLogger, type Logger } from "../logger.ts";

export interface GlobalOptions {
  dataDir?: string;
  verbose?: boolean;
  quiet?: boolean;
}

export function globalOptions(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals() as GlobalOptions;
}

export function cliLogger(g: GlobalOptions): Logger {
  return createCliLogger(g.quiet ? "warn" : g.verbose ? "debug" : "info");
}

export function cliConfig(g: GlobalOptions): Config {
  return loadConfig(process.env, { dataDir: g.dataDir });
}

/** Opens the app (migrating first), runs fn, always closes. */
export async function withApp<T>(cmd: Command, fn: (app: App) => Promise<T>, options: CreateAppOptions = {}): Promise<T> {
  const g = globalOptions(cmd);
  const log = cliLogger(g);
  const app = await createApp(cliConfig(g), { log, ...options });
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
