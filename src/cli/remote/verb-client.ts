// The client half of running a verb in the server that holds the embedded data dir:
// sends argv and the working directory over the server's unix socket, copies the
// streamed stdout/stderr to ours, and returns the verb's exit code.
import { createConnection } from "node:net";
import { AppError, ErrorCode } from "../../errors.ts";
import type { LockHolder } from "../../db/lock.ts";
import { type ServerMessage, VERB_PROTOCOL } from "./protocol.ts";

/** Thrown by the CLI runtime once a verb has run in the server: the action is done, exit with this code. */
export class RanOnServer extends Error {
  constructor(readonly exitCode: number) {
    super(`ran on the server (exit ${exitCode})`);
    this.name = "RanOnServer";
  }
}

export function runVerbOnServer(holder: LockHolder & { server: NonNullable<LockHolder["server"]> }, argv: readonly string[], cwd: string): Promise<number> {
  const { socket } = holder.server;
  const where = `monoscope server (process ${holder.pid}, ${holder.server.url})`;
  return new Promise((resolve, reject) => {
    const conn = createConnection(socket);
    let buffered = "";
    let exitCode: number | null = null;
    conn.setEncoding("utf8");
    conn.on("connect", () => conn.write(JSON.stringify({ v: VERB_PROTOCOL, argv, cwd }) + "\n"));
    const emit = (stream: NodeJS.WriteStream, text: string) => {
      // Keep the server's output from piling up here when our reader is slow (a large export to a pipe).
      if (!stream.write(text)) {
        conn.pause();
        stream.once("drain", () => conn.resume());
      }
    };
    conn.on("data", (chunk: string) => {
      buffered += chunk;
      for (let nl = buffered.indexOf("\n"); nl >= 0; nl = buffered.indexOf("\n")) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        let m: ServerMessage;
        try {
          m = JSON.parse(line) as ServerMessage;
        } catch {
          continue; // not ours: ignore rather than print garbage
        }
        if ("out" in m) emit(process.stdout, m.out);
        else if ("err" in m) emit(process.stderr, m.err);
        else if ("exit" in m) exitCode = m.exit;
      }
    });
    conn.on("error", (e: NodeJS.ErrnoException) => {
      if (exitCode !== null) return;
      reject(
        new AppError(
          ErrorCode.DATABASE_UNAVAILABLE,
          `the data dir is held by a ${where}, but its local socket ${socket} does not answer (${e.code ?? e.message}); ` +
            `if that server is shutting down, run the command again once it has stopped`,
        ),
      );
    });
    conn.on("close", () => {
      if (exitCode !== null) resolve(exitCode);
      else reject(new AppError(ErrorCode.DATABASE_UNAVAILABLE, `the ${where} closed the connection before the command finished (see its log)`));
    });
  });
}
