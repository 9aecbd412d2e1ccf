// An exclusive lock on the embedded data dir. PGlite does not lock its files, and
// two processes writing one data dir silently lose writes, so we do it here.
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { AppError, ErrorCode } from "../errors.ts";

export interface DirLock {
  release(): void;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
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
  const path = join(dir, "monoscope.lock");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, "wx");
      writeSync(fd, JSON.stringify({ pid: process.pid, command: process.argv.slice(1).join(" "), since: new Date().toISOString() }));
      closeSync(fd);
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
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
      let holder: { pid?: number; command?: string; since?: string } = {};
      try {
        holder = JSON.parse(readFileSync(path, "utf8"));
      } catch {
        /* unreadable lock: treat as stale */
      }
      if (holder.pid && holder.pid !== process.pid && processAlive(holder.pid)) {
        throw new AppError(
          ErrorCode.CONFLICT,
          `data dir ${dir} is in use by process ${holder.pid} (${holder.command ?? "unknown command"}, since ${holder.since ?? "?"}); ` +
            `stop it first, or use another --data-dir, or a PostgreSQL server (DATABASE_URL) for concurrent access`,
        );
      }
      rmSync(path, { force: true }); // stale lock from a dead process
    }
  }
  throw new AppError(ErrorCode.CONFLICT, `data dir ${dir}: could not take the lock ${path}`);
}
