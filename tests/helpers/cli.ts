// Runs the `monoscope` CLI as a user would (a child process with a clean environment:
// PATH, HOME and the test database's variables only) against a data dir.
import { spawnSync } from "node:child_process";
import { join } from "node:path";

export const ROOT = join(import.meta.dirname, "..", "..");

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(dataDir: string, env: Record<string, string>, args: string[]): CliRun {
  const r = spawnSync(process.execPath, [join(ROOT, "bin/monoscope.js"), "--data-dir", dataDir, ...args], {
    encoding: "utf8",
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
