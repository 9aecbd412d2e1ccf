// The server half of the local verb channel: a unix socket (mode 0600, inside the data
// dir) on which `serve`/`demo` run CLI verbs for other local monoscope processes, with
// the same commands and importers as the standalone CLI but against the server's
// already-open app, since only one process may own the embedded PGlite files. The
// verb's stdout/stderr go back over the socket, then its exit code. Verbs run one at a
// time, as they would if each took the data dir's lock.
import { createHash } from "node:crypto";
import { chmodSync, lstatSync, mkdirSync, rmSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CommanderError, type Command } from "commander";
import type { App } from "../../app.ts";
import type { Logger } from "../../logger.ts";
import { reportError } from "../runtime.ts";
import { type ClientRun, clientRun } from "./context.ts";
import { MAX_REQUEST_BYTES, parseVerbRequest, type ServerMessage } from "./protocol.ts";
import { routeStdioToClients } from "./stdio.ts";

export interface VerbServer {
  readonly socket: string;
  /** Stops accepting, removes the socket and waits up to ms for the verb in progress; false if it was still running. */
  close(ms: number): Promise<boolean>;
}

/** sun_path holds 108 bytes on Linux, 104 on macOS. */
const MAX_SOCKET_PATH = 100;

/** The socket inside the data dir, or (when that path is too long for a socket) in a private per-user temp dir. */
export function socketPathFor(dataDir: string): string {
  const inDir = join(dataDir, "monoscope.sock");
  if (Buffer.byteLength(inDir) <= MAX_SOCKET_PATH) return inDir;
  const uid = process.getuid?.() ?? 0;
  const dir = join(tmpdir(), `monoscope-${uid}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o077) !== 0) {
    throw new Error(`${dir} must be a directory of user ${uid} with mode 0700 to hold monoscope's local socket`);
  }
  return join(dir, `${createHash("sha256").update(dataDir).digest("hex").slice(0, 16)}.sock`);
}

export async function startVerbServer(app: App, opts: { dataDir: string; program: () => Command; log: Logger }): Promise<VerbServer> {
  routeStdioToClients();
  const socket = socketPathFor(opts.dataDir);
  // We hold the data dir's lock, so a socket file left here belongs to a server that died.
  rmSync(socket, { force: true });
  let queue: Promise<void> = Promise.resolve();
  let running: string | null = null;
  let closing = false;

  const server: Server = createServer((conn) => {
    conn.setEncoding("utf8");
    let buffered = "";
    const onData = (chunk: string) => {
      buffered += chunk;
      const nl = buffered.indexOf("\n");
      if (nl < 0) {
        if (buffered.length > MAX_REQUEST_BYTES) {
          conn.off("data", onData);
          refuse(conn, "request too long");
        }
        return;
      }
      conn.off("data", onData);
      const req = parseVerbRequest(buffered.slice(0, nl));
      if (typeof req === "string") return refuse(conn, req);
      const verb = verbName(req.argv);
      if (running) send(conn, { err: `monoscope: waiting for the server's current command (${running}) to finish\n` });
      const done = queue.then(() =>
        closing ? refuse(conn, "the server is shutting down; run the command again once it has stopped") : runVerb(conn, verb, req.argv, req.cwd),
      );
      queue = done.catch(() => {});
    };
    conn.on("data", onData);
    conn.on("error", () => {
      /* the client went away; runVerb notices */
    });
  });

  async function runVerb(conn: Socket, verb: string, argv: string[], cwd: string): Promise<void> {
    const t0 = performance.now();
    running = verb;
    let gone = conn.destroyed;
    const onClose = () => {
      if (!gone) opts.log.warn(`the client of \`${verb}\` went away; the command carries on in the server`);
      gone = true;
    };
    conn.once("close", onClose);
    const run: ClientRun = {
      app,
      cwd,
      write: (stream, text) => {
        if (!gone) send(conn, stream === "out" ? { out: text } : { err: text });
      },
      log: null,
      exitCode: 0,
      finished: false,
    };
    let code = 0;
    await clientRun.run(run, async () => {
      try {
        await opts.program().parseAsync(argv, { from: "user" });
        code = run.exitCode;
      } catch (e) {
        code = e instanceof CommanderError ? e.exitCode : reportError(e);
      }
    });
    run.finished = true;
    running = null;
    conn.off("close", onClose);
    opts.log.info(`ran \`${verb}\` for a local client`, { exitCode: code, ms: Math.round(performance.now() - t0) });
    if (!gone) conn.end(JSON.stringify({ exit: code } satisfies ServerMessage) + "\n");
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    // Created owner-only from the start (umask), not made so after a window in which anyone could connect.
    const umask = process.umask(0o177);
    try {
      server.listen(socket, () => resolve());
    } finally {
      process.umask(umask);
    }
  });
  chmodSync(socket, 0o600);

  return {
    socket,
    async close(ms) {
      closing = true;
      server.close();
      rmSync(socket, { force: true });
      // Commands still queued are refused once their turn comes, so this waits for the running one.
      let timer: NodeJS.Timeout | undefined;
      const finished = await Promise.race([
        queue.then(() => true),
        new Promise<boolean>((r) => {
          timer = setTimeout(() => r(false), ms);
        }),
      ]);
      clearTimeout(timer);
      return finished;
    },
  };
}

function send(conn: Socket, m: ServerMessage) {
  if (!conn.destroyed) conn.write(JSON.stringify(m) + "\n");
}

function refuse(conn: Socket, why: string): void {
  send(conn, { err: `monoscope: error: the server refused the request: ${why}\n` });
  conn.end(JSON.stringify({ exit: 1 } satisfies ServerMessage) + "\n");
}

/** Verbs whose first argument is a sub-verb. */
const GROUPS = new Set(["ingest", "lineage", "export", "jobs"]);

/** "ingest saelens" from argv, for logs: the verb's words, never its values (which may be paths or text). */
export function verbName(argv: readonly string[]): string {
  const words: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--data-dir") i++;
    else if (a.startsWith("-")) continue;
    else {
      words.push(a);
      if (words.length === 2 || !GROUPS.has(words[0])) break;
    }
  }
  return words.join(" ").slice(0, 40) || "(no verb)";
}
