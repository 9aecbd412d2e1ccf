// Read replicas against a real streaming standby (pg_basebackup): queries are served by the
// standby, fall back to the primary when it is down or too far behind, and a client that sends
// back a mutation's Monoscope-LSN reads its own write. PostgreSQL only (PGlite has no replication).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type App, createApp } from "../../../src/app.ts";
import { loadConfig } from "../../../src/config.ts";
import { openDatabase } from "../../../src/db/database.ts";
import { withReadReplicas } from "../../../src/db/replicas.ts";
import { silentLogger } from "../../../src/logger.ts";
import { testBackend } from "../../helpers/backend.ts";
import { startTestServer, type TestServer } from "../../helpers/http-server.ts";
import { type StandbyCluster, startStandbyCluster } from "../../helpers/standby-cluster.ts";

const until = async (what: string, ok: () => boolean | Promise<boolean>, ms = 20_000) => {
  const end = Date.now() + ms;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

describe.skipIf(testBackend() !== "postgres")("read replicas (streaming standby)", () => {
  let cluster: StandbyCluster;
  let app: App;
  let server: TestServer;
  const lists = { query: "query Lists { lists { name } }" };
  const create = (name: string) => ({ query: "mutation Create($n: String!) { createList(name: $n) { id } }", variables: { n: name } });
  const names = (r: { json: { data: { lists: { name: string }[] } } }) => r.json.data.lists.map((l) => l.name);

  beforeAll(async () => {
    cluster = await startStandbyCluster();
    const env = {
      DATABASE_URL: cluster.primaryUrl,
      DATABASE_READ_URLS: cluster.standbyUrl,
      MONOSCOPE_REPLICA_CHECK_MS: "100",
      MONOSCOPE_REPLICA_MAX_LAG_MS: "600000",
    };
    app = await createApp(loadConfig(env as NodeJS.ProcessEnv), { log: silentLogger });
    server = await startTestServer(app);
    await cluster.waitForReplay();
    await app.readRouting!.checkNow();
  }, 120_000);

  afterAll(async () => {
    await server?.close();
    await app?.close();
    cluster?.stop();
  });

  it("serves queries from the standby and mutations from the primary", async () => {
    expect(app.readRouting!.status()).toMatchObject([{ state: "up", lagMs: 0 }]);
    const served = { ...app.readRouting!.served };
    const m = await server.post(create("on the primary"));
    expect(m.json.errors).toBeUndefined();
    expect(m.headers.get("monoscope-lsn")).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
    await cluster.waitForReplay();
    const r = await server.post(lists);
    expect(names(r)).toContain("on the primary");
    expect(app.readRouting!.served.replica).toBeGreaterThan(served.replica);
    expect(app.readRouting!.served.primary + app.readRouting!.served.fallback).toBe(served.primary + served.fallback);
  });

  it("reads its own write with Monoscope-LSN while the standby is behind", async () => {
    await cluster.onStandby("SELECT pg_wal_replay_pause()");
    try {
      const m = await server.post(create("fresh write"));
      const lsn = m.headers.get("monoscope-lsn")!;
      // Without the header the standby answers, and has not seen the write: routing is real.
      expect(names(await server.post(lists))).not.toContain("fresh write");
      // With it, only a server that has replayed the write may answer: the primary, here.
      const before = app.readRouting!.served.primary;
      expect(names(await server.post(lists, { "monoscope-lsn": lsn }))).toContain("fresh write");
      expect(app.readRouting!.served.primary).toBeGreaterThan(before);
      await cluster.onStandby("SELECT pg_wal_replay_resume()");
      await cluster.waitForReplay();
      const replica = app.readRouting!.served.replica;
      expect(names(await server.post(lists, { "monoscope-lsn": lsn }))).toContain("fresh write");
      expect(app.readRouting!.served.replica).toBeGreaterThan(replica);
    } finally {
      await cluster.onStandby("SELECT pg_wal_replay_resume()").catch(() => {});
    }
  });

  it("refuses a malformed Monoscope-LSN with a clear error", async () => {
    const r = await server.post(lists, { "monoscope-lsn": "yesterday" });
    // A request error: 400, or 200 for a legacy application/json client (as for other request errors, http.ts).
    expect([200, 400]).toContain(r.status);
    expect(r.json.data).toBeUndefined();
    expect(r.json.errors[0]).toMatchObject({ extensions: { code: "BAD_USER_INPUT" } });
    expect(r.json.errors[0].message).toMatch(/Monoscope-LSN must be a PostgreSQL WAL position/);
  });

  it("falls back to the primary when the standby is killed, and returns to it when it is back", async () => {
    cluster.killStandby();
    try {
      for (let i = 0; i < 5; i++) {
        const r = await server.post(lists);
        expect(r.json.errors).toBeUndefined();
        expect(names(r)).toContain("on the primary");
      }
      await until("the standby to be marked down", () => app.readRouting!.status()[0]!.state === "down");
      const ready = await (await fetch(`${server.url}/readyz`)).json();
      expect(ready).toMatchObject({ status: "ready", replicas: [{ state: "down" }] });
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      expect(metrics).toMatch(/monoscope_replica_up\{replica="127\.0\.0\.1:\d+\/monoscope"\} 0/);
    } finally {
      cluster.startStandby();
    }
    await until("the standby to be up again", () => app.readRouting!.status()[0]!.state === "up");
    const replica = app.readRouting!.served.replica;
    expect(names(await server.post(lists))).toContain("on the primary");
    expect(app.readRouting!.served.replica).toBeGreaterThan(replica);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/monoscope_replica_up\{replica="127\.0\.0\.1:\d+\/monoscope"\} 1/);
    expect(metrics).toMatch(/monoscope_replica_lag_seconds\{replica="[^"]+"\} 0/);
  });

  it("skips a standby whose replay lag exceeds the bound", async () => {
    const config = loadConfig({ DATABASE_URL: cluster.primaryUrl } as NodeJS.ProcessEnv);
    const { db, routing } = await withReadReplicas(await openDatabase(config), {
      urls: [cluster.standbyUrl],
      maxLagMs: 200,
      checkMs: 50,
      poolSize: 2,
      preparedStatements: false,
    });
    try {
      expect(routing.status()[0]!.state).toBe("up");
      await cluster.onStandby("SELECT pg_wal_replay_pause()");
      await server.post(create("while paused"));
      await until("the standby to count as lagging", () => routing.status()[0]!.state === "lagging");
      expect(routing.status()[0]!.lagMs).toBeGreaterThan(200);
      const rows = await routing.run(null, () => {
        routing.markReadOnly();
        return db.sql`SELECT name FROM feature_list`;
      });
      expect((rows as { name: string }[]).map((r) => r.name)).toContain("while paused");
      expect(routing.served).toMatchObject({ replica: 0, primary: 1 });
      await cluster.onStandby("SELECT pg_wal_replay_resume()");
      await until("the standby to catch up", () => routing.status()[0]!.state === "up");
    } finally {
      await cluster.onStandby("SELECT pg_wal_replay_resume()").catch(() => {});
      await db.close();
    }
  });
});
