// In a server that runs verbs for local clients, process.stdout/stderr writes made while
// such a verb runs go to that client, everything else to the server's own streams. The
// verbs write to process.stdout/stderr as in a standalone CLI, so they need no change.
// Client output is never a terminal here: progress comes back as plain lines.
import type { Logger } from "../../logger.ts";
import { createCliLogger } from "../../logger.ts";
import { currentClientRun } from "./context.ts";

let routed = false;

export function routeStdioToClients(): void {
  if (routed) return;
  routed = true;
  for (const [stream, name] of [
    [process.stdout, "out"],
    [process.stderr, "err"],
  ] as const) {
    const write = stream.write.bind(stream) as (chunk: unknown, encoding?: unknown, cb?: unknown) => boolean;
    const isTTY = stream.isTTY;
    stream.write = ((chunk: string | Uint8Array, encoding?: BufferEncoding | ((e?: Error) => void), cb?: (e?: Error) => void) => {
      const run = currentClientRun();
      if (!run) return write(chunk, encoding, cb);
      run.write(name, typeof chunk === "string" ? chunk : Buffer.from(chunk).toString(typeof encoding === "string" ? encoding : "utf8"));
      const done = typeof encoding === "function" ? encoding : cb;
      if (done) process.nextTick(done);
      return true;
    }) as typeof stream.write;
    Object.defineProperty(stream, "isTTY", { configurable: true, get: () => (currentClientRun() ? false : isTTY) });
  }
}

/**
 * The server's logger, except while a verb runs for a client: then its lines (the
 * importers' and post-ingest steps' progress) go to the client as CLI lines.
 */
export function clientAwareLogger(base: Logger): Logger {
  const fallback = createCliLogger("info");
  const at =
    (level: keyof Logger) =>
    (msg: string, fields?: Record<string, unknown>): void => {
      const run = currentClientRun();
      if (run) (run.log ?? fallback)[level](msg, fields);
      else base[level](msg, fields);
    };
  return { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") };
}
