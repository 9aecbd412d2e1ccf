// `monoscope serve` as a child process, as a user starts it in another terminal: waits
// for its "GraphQL API at" line (printed once it is ready), keeps its stderr, stops it
// with a signal and reports how it exited.
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { ROOT } from "./cli.ts";

export interface ServeProcess {
  url: string;
  pid: number;
  stderr(): string;
  /** Sends the signal and waits for the exit (SIGKILL after waitMs). */
  stop(signal?: NodeJS.Signals, waitMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  graphql(query: string): Promise<{ data?: any; errors?: { message: string }[] }>;
}

export async function startServe(dataDir: string, env: Record<string, string>, args: string[] = []): Promise<ServeProcess> {
  const child: ChildProcess = spawn(process.execPath, [join(ROOT, "bin/monoscope.js"), "--data-dir", dataDir, "serve", "--port", "0", ...args], {
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", MONOSCOPE_RATE_LIMIT_PER_MINUTE: "0", ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start in 120 s:\n${stderr}`)), 120_000);
    child.stderr!.on("data", () => {
      const m = /GraphQL API at (http:\/\/\S+)\/graphql/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    void exited.then((e) => reject(new Error(`serve exited (${e.code ?? e.signal}) before serving:\n${stderr}`)));
  });
  return {
    url,
    pid: child.pid!,
    stderr: () => stderr,
    async stop(signal = "SIGTERM", waitMs = 30_000) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill("SIGKILL"), waitMs);
      const e = await exited;
      clearTimeout(timer);
      return e;
    },
    async graphql(query) {
      const r = await fetch(`${url}/graphql`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query }) });
      return (await r.json()) as { data?: any; errors?: { message: string }[] };
    },
  };
}

/** Polls text() until it matches (a child's output arrives only while the event loop runs). */
export async function waitFor(what: RegExp, text: () => string, ms = 20_000): Promise<void> {
  for (let waited = 0; waited < ms; waited += 50) {
    if (what.test(text())) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}:\n${text()}`);
}
