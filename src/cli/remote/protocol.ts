// The local verb channel's wire format: newline-delimited JSON. The client sends one
// request; the server answers with output chunks and, last, the exit code.
import { isAbsolute } from "node:path";

export const VERB_PROTOCOL = 1;

export interface VerbRequest {
  v: number;
  argv: string[];
  /** The client's working directory: relative paths in argv resolve against it. */
  cwd: string;
}

export type ServerMessage = { out: string } | { err: string } | { exit: number };

/** The longest request line accepted (argv is small; this only stops a runaway client). */
export const MAX_REQUEST_BYTES = 1024 * 1024;

export function parseVerbRequest(line: string): VerbRequest | string {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return "request is not JSON";
  }
  const r = raw as Partial<VerbRequest> | null;
  if (!r || typeof r !== "object") return "request is not an object";
  if (r.v !== VERB_PROTOCOL) return `protocol version ${String(r.v)} is not ${VERB_PROTOCOL}: client and server are different monoscope versions`;
  if (!Array.isArray(r.argv) || !r.argv.every((a) => typeof a === "string")) return "argv must be a list of strings";
  if (typeof r.cwd !== "string" || !isAbsolute(r.cwd)) return "cwd must be an absolute path";
  return { v: r.v, argv: r.argv, cwd: r.cwd };
}
