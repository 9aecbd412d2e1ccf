// An exclusive lock on the embedded data dir. PGlite does not lock its files, and
// two processes writing one data dir silently lose writes, so we do it here. A server
// that holds the lock also records in it where other local monoscope processes can
// reach it (its HTTP address and a unix socket), so they send their work there instead.
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { AppError, ErrorCode } from "../errors.ts";

export interface DirLock {
  release(): void;
}

/** Where a running server can be reached, as recorded in its lock file. */
export interface ServedBy {
  /** The HTTP base address, e.g. http://127.0.0.1:4000. */
  url: string;
  port: number;
  /** The unix socket on which the server runs CLI verbs for local clients. */
  socket: string;
}

export interface LockHolder {
  pid: number;
  command?: string;
  since?: string;
  server?: ServedBy;
}

export const lockPath = (dir: string) => join(dir, "monoscope.lock");

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

function readHolder(path: string): Partial<LockHolder> {
  try {
    const raw = JSON.parse(readFileSync(path, "utf8")) as Partial<LockHolder>;
    return raw && typeof raw === "object" ? raw : {};
  } catch {
    return {}; // missing or unreadable: no holder
  }
}

/** The live process holding the lock on dir, or null (no lock, or a stale one). */
export function lockHolder(dir: string): LockHolder | null {
  const h = readHolder(lockPath(dir));
  if (typeof h.pid !== "number" || !processAlive(h.pid)) return null;
  const s = h.server;
  const server =
    s && typeof s.url === "string" && typeof s.socket === "string" && typeof s.port === "number" ? { url: s.url, port: s.port, socket: s.socket } : undefined;
  return { pid: h.pid, command: h.command, since: h.since, server };
}

/**
 * Records in this process's lock on dir that it serves the data dir. The file is replaced
 * by a rename, so a reader sees the old or the new content, never half of it.
 */
export function publishServer(dir: string, server: ServedBy): void {
  const path = lockPath(dir);
  const h = readHolder(path);
  if (h.pid !== process.pid) throw new Error(`${path} is not held by this process`);
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify({ ...h, server }), { mode: 0o600 });
  renameSync(tmp, path);
}

export function lockDataDir(dir: string): DirLock {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new AppError(
      ErrorCode.BAD_USER_INPUT,
      `data dir ${dir} cannot be created (${(e as NodeJS.ErrnoException).code}): choose a writable place with --data-dir or MONOSCOPE_DATA_DIR`,
    );
  }
  const path = lockPath(dir);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, "wx");
      writeSync(fd, JSON.stringify({ pid: process.pid, command: process.argv.slice(1).join(" "), since: new Date().toISOString() }));
      closeSync(fd);
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        process.off("exit", release);
        try {
          rmSync(path, { force: true });
        } catch {
          /* the dir may be gone already */
        }
      };
      process.once("exit", release);
      return { release };
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "EACCES" || code === "EROFS" || code === "EPERM") {
        throw new AppError(
          ErrorCode.BAD_USER_INPUT,
          `data dir ${dir} is not writable (${code}): choose a writable place with --data-dir or MONOSCOPE_DATA_DIR`,
        );
      }
      if (code !== "EEXIST") throw e;
      const holder = readHolder(path);
      if (holder.pid && holder.pid !== process.pid && processAlive(holder.pid)) {
        const served = holder.server?.url ? `, serving ${holder.server.url}` : "";
        // A serve/demo that has not published its address yet (the demo sets up for minutes first).
        const starting = !holder.server && /\s(serve|demo)(\s|$)/.test(holder.command ?? "") ? "once it serves, other commands run through it; " : "";
        throw new AppError(
          ErrorCode.CONFLICT,
          `data dir ${dir} is in use by process ${holder.pid} (${holder.command ?? "unknown command"}${served}, since ${holder.since ?? "?"}); ` +
            `${starting}stop it first, or use another --data-dir, or a PostgreSQL server (DATABASE_URL) for concurrent access`,
        );
      }
      rmSync(path, { force: true }); // stale lock from a dead process
    }
  }
  throw new AppError(ErrorCode.CONFLICT, `data dir ${dir}: could not take the lock ${path}`);
}
