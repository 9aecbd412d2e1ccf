// Runs the `monoscope` CLI as a user would (a child process with a clean environment:
// PATH, HOME and the test database's variables only) against a data dir.
import { execFile, spawnSync } from "node:child_process";
import { join } from "node:path";

export const ROOT = join(import.meta.dirname, "..", "..");

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

const cliEnv = (env: Record<string, string>) => ({ PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env });

export function runCli(dataDir: string, env: Record<string, string>, args: string[]): CliRun {
  const r = spawnSync(process.execPath, [join(ROOT, "bin/monoscope.js"), "--data-dir", dataDir, ...args], {
    encoding: "utf8",
    env: cliEnv(env),
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** runCli without blocking the test process, so several runs can overlap. */
export function runCliAsync(dataDir: string, env: Record<string, string>, args: string[]): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(ROOT, "bin/monoscope.js"), "--data-dir", dataDir, ...args], { encoding: "utf8", env: cliEnv(env) }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : null) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}
