// Logs go to stderr (stdout is reserved for command results): structured JSON for
// the server, plain lines for the CLI. Secrets are redacted on the way out.
import { pino } from "pino";
import type { Config } from "./config.ts";
import { redactSecrets } from "./errors.ts";

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 } as const;
type Level = keyof typeof LEVELS;

/** JSON lines (pino) on stderr. */
export function createLogger(config: Pick<Config, "logLevel">): Logger {
  const p = pino(
    {
      level: config.logLevel,
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: ["apiKey", "authorization", "headers.authorization", "*.authorization"], censor: "***" },
    },
    pino.destination({ fd: 2, sync: true }),
  );
  // Filtered levels return before redacting (the access log calls info() on every request).
  const wrap = (level: "debug" | "info" | "warn" | "error") => (msg: string, fields?: Record<string, unknown>) => {
    if (!p.isLevelEnabled(level)) return;
    if (fields) p[level](fields, redactSecrets(msg));
    else p[level](redactSecrets(msg));
  };
  return { debug: wrap("debug"), info: wrap("info"), warn: wrap("warn"), error: wrap("error") };
}

/** Plain "monoscope: ..." lines on stderr, for humans at a terminal. */
export function createCliLogger(level: Level = "info"): Logger {
  const min = LEVELS[level];
  const write = (l: Level, prefix: string) => (msg: string, fields?: Record<string, unknown>) => {
    if (LEVELS[l] < min) return;
    const extra = fields && Object.keys(fields).length ? " " + JSON.stringify(fields) : "";
    process.stderr.write(`monoscope: ${prefix}${redactSecrets(msg)}${redactSecrets(extra)}\n`);
  };
  return { debug: write("debug", "debug: "), info: write("info", ""), warn: write("warn", "warning: "), error: write("error", "error: ") };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
