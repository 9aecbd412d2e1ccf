// What the CLI would print for an error, without spawning it.
import { reportError } from "../../src/cli/runtime.ts";

export function reportErrorLine(e: unknown): { code: number; line: string } {
  const write = process.stderr.write.bind(process.stderr);
  let out = "";
  (process.stderr as unknown as { write: (s: string) => boolean }).write = (s: string) => {
    out += s;
    return true;
  };
  try {
    const code = reportError(e);
    return { code, line: out.replace(/\n$/, "") };
  } finally {
    (process.stderr as unknown as { write: typeof write }).write = write;
  }
}
