// The scan's checkpoint: the whole BuildState in one file under the data dir, replaced
// atomically (write, fsync, rename), so a kill -9 at any moment leaves either the previous
// checkpoint or the new one. A checkpoint is used only by a run with the same key (SAE
// version, corpus fingerprint, source and options); any other run starts over.
import { mkdirSync, openSync, closeSync, writeSync, fsyncSync, renameSync, readFileSync, existsSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { conflict } from "../../errors.ts";
import type { BuildState } from "./build-state.ts";

const FORMAT = "monoscope-activations-build/1";

interface Header {
  format: string;
  key: string;
  texts: number;
  tokens: number;
  line: number;
  skipped: number;
  complete: boolean;
  rng: number;
  keys: string[];
  arrays: { name: string; length: number }[];
}

export function saveCheckpoint(path: string, key: string, s: BuildState): void {
  mkdirSync(dirname(path), { recursive: true });
  const arrays = s.arrays();
  const header: Header = {
    format: FORMAT,
    key,
    texts: s.texts,
    tokens: s.tokens,
    line: s.line,
    skipped: s.skipped,
    complete: s.complete,
    rng: s.rng.state,
    keys: s.keys,
    arrays: arrays.map(([name, a]) => ({ name, length: a.length })),
  };
  const head = Buffer.from(JSON.stringify(header), "utf8");
  const len = Buffer.alloc(4);
  len.writeUInt32LE(head.length);
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, "w");
  try {
    writeSync(fd, len);
    writeSync(fd, head);
    for (const [, a] of arrays) writeSync(fd, new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/** Restores s from the checkpoint at path when it has this key; false (s untouched) otherwise. */
export function loadCheckpoint(path: string, key: string, s: BuildState): boolean {
  if (!existsSync(path)) return false;
  const buf = readFileSync(path);
  if (buf.length < 4) return false;
  const n = buf.readUInt32LE(0);
  let header: Header;
  try {
    header = JSON.parse(buf.subarray(4, 4 + n).toString("utf8")) as Header;
  } catch {
    return false;
  }
  if (header.format !== FORMAT || header.key !== key) return false;
  const arrays = s.arrays();
  if (arrays.length !== header.arrays.length || arrays.some(([name, a], i) => header.arrays[i]!.name !== name || header.arrays[i]!.length !== a.length)) return false;
  let o = 4 + n;
  const bytes = arrays.reduce((t, [, a]) => t + a.byteLength, 0);
  if (buf.length !== o + bytes) return false;
  for (const [, a] of arrays) {
    new Uint8Array(a.buffer, a.byteOffset, a.byteLength).set(buf.subarray(o, o + a.byteLength));
    o += a.byteLength;
  }
  s.texts = header.texts;
  s.tokens = header.tokens;
  s.line = header.line;
  s.skipped = header.skipped;
  s.complete = header.complete === true;
  s.rng.state = header.rng;
  s.restoreKeys(header.keys);
  return true;
}

export function removeCheckpoint(path: string): void {
  rmSync(path, { force: true });
  rmSync(`${path}.tmp`, { force: true });
}

/**
 * Claims the checkpoint for this process (a `.lock` file holding its pid), so two builds of one
 * SAE against the same data dir cannot write one file; a lock whose process is gone is taken over.
 * Returns the release function.
 */
export function claimCheckpoint(path: string, what: string): () => void {
  mkdirSync(dirname(path), { recursive: true });
  const lock = `${path}.lock`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(lock, String(process.pid), { flag: "wx" });
      return () => rmSync(lock, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      const pid = Number(readFileSync(lock, "utf8"));
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
        throw conflict(`${what} is being built by process ${pid} (${lock}); wait for it to finish`);
      }
      rmSync(lock, { force: true });
    }
  }
  throw conflict(`${what}: could not claim ${lock}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}
