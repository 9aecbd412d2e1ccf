// The verb a server runs for a local client (src/cli/remote/verb-server.ts): which app it
// uses, where relative paths resolve, and where its stdout, stderr and exit code go.
// Carried through the verb's async calls, so verbs need no special code path.
import { AsyncLocalStorage } from "node:async_hooks";
import type { App } from "../../app.ts";
import type { Logger } from "../../logger.ts";

export interface ClientRun {
  /** The server's open app (never closed by the verb). */
  readonly app: App;
  /** The client's working directory. */
  readonly cwd: string;
  /** Output for the client; dropped once it has gone away. */
  write(stream: "out" | "err", text: string): void;
  /** Log lines for the client, at its -q/-v level; set when the verb starts. */
  log: Logger | null;
  exitCode: number;
  /** Set when the verb has returned (later writes from its leftovers go to the server's own streams). */
  finished: boolean;
}

export const clientRun = new AsyncLocalStorage<ClientRun>();

/** The client run in progress in this async context, if any. */
export const currentClientRun = (): ClientRun | undefined => {
  const run = clientRun.getStore();
  return run && !run.finished ? run : undefined;
};
