// SIGTERM/SIGINT on `monoscope serve`: a request in flight is answered, then the server
// closes the database, releases the data dir's lock, removes its socket, logs it and
// exits 0; a request that does not finish within --shutdown-timeout is cut off.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, type TestDatabase } from "../helpers/backend.ts";
import { runCli } from "../helpers/cli.ts";
import { type ServeProcess, startServe, waitFor } from "../helpers/serve-process.ts";

let dir: string;
let db: TestDatabase;
const servers: ServeProcess[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "monoscope-shutdown-"));
  db = await createTestDatabase();
});
afterAll(async () => {
  for (const s of servers) await s.stop("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
  await db?.drop();
});

async function serve(dataDir: string, args: string[]) {
  const s = await startServe(dataDir, db.env, args);
  servers.push(s);
  return s;
}

/** Sends a POST /graphql whose body is held back after its first bytes; resolves to a function that sends the rest. */
async function startSlowRequest(url: string, query: string): Promise<{ socket: Socket; finish(): void; response: Promise<string> }> {
  const body = JSON.stringify({ query });
  const u = new URL(url);
  const socket = connect(Number(u.port), u.hostname);
  await new Promise<void>((r) => socket.once("connect", () => r()));
  let answer = "";
  socket.setEncoding("utf8");
  socket.on("data", (d: string) => (answer += d));
  const response = new Promise<string>((r) => socket.once("close", () => r(answer)));
  socket.write(`POST /graphql HTTP/1.1\r\nhost: ${u.host}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body.slice(0, 5)}`);
  return { socket, finish: () => socket.write(body.slice(5)), response };
}

describe("serve shutdown", () => {
  it("SIGTERM: answers the request in flight, closes the database, releases the lock, exits 0", async () => {
    const dataDir = join(dir, "a");
    const s = await serve(dataDir, ["--shutdown-timeout", "20"]);
    const lock = join(dataDir, "pglite", "monoscope.lock");
    if (db.backend === "pglite") expect(existsSync(lock)).toBe(true);
    const req = await startSlowRequest(s.url, "{ saes { id } }");
    await new Promise((r) => setTimeout(r, 300));
    const exit = s.stop("SIGTERM");
    await waitFor(/SIGTERM: shutting down; letting in-flight requests finish \(up to 20 s\)/, s.stderr);
    req.finish();
    const answer = await req.response;
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(answer).toContain('{"data":{"saes":[]}}');
    expect(await exit).toEqual({ code: 0, signal: null });
    expect(s.stderr()).toMatch(db.backend === "pglite" ? /shut down in [\d.]+ s: database closed, data dir lock released/ : /shut down in [\d.]+ s: database connections closed/);
    expect(existsSync(lock)).toBe(false);
    expect(existsSync(join(dataDir, "monoscope.sock"))).toBe(false);
    // A new process opens the data dir on its own.
    const r = runCli(dataDir, db.env, ["query", "{ saes { id } }"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('{"data":{"saes":[]}}');
  });

  it("SIGINT: a request that does not finish within --shutdown-timeout is cut off; still exits 0", async () => {
    const dataDir = join(dir, "b");
    const s = await serve(dataDir, ["--shutdown-timeout", "1"]);
    const req = await startSlowRequest(s.url, "{ saes { id } }");
    await new Promise((r) => setTimeout(r, 300));
    const t0 = Date.now();
    const exit = await s.stop("SIGINT");
    expect(exit).toEqual({ code: 0, signal: null });
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(s.stderr()).toMatch(/requests still running after 1 s: closing their connections/);
    expect(await req.response).toBe("");
    expect(existsSync(join(dataDir, "pglite", "monoscope.lock"))).toBe(false);
  });
});
