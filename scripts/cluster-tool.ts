// Helpers for scripts/cluster.sh (run with node bin/run-ts.js):
//   checkpoint DIR --features N --d D         write a small synthetic SAELens checkpoint
//   load --url URL --stop FILE --out FILE      GraphQL traffic through the balancer until FILE exists:
//                                             queries, and mutations each followed by a read that sends
//                                             back Monoscope-LSN and must see the write; counts failures
//   checksums --url URL                        row count and md5 of every table in the public schema (JSON)
//   wait-replay --primary URL --standby URL    wait until the standby has replayed the primary's WAL
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { writeSafetensors } from "../src/ingest/saelens/safetensors-writer.ts";

const args = process.argv.slice(2);
const flag = (name: string, def?: string): string => {
  const i = args.indexOf(`--${name}`);
  const v = i >= 0 ? args[i + 1] : def;
  if (v === undefined) throw new Error(`--${name} is required`);
  return v;
};

async function checkpoint(dir: string) {
  const n = Number(flag("features", "2000"));
  const d = Number(flag("d", "64"));
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, "cfg.json"),
    JSON.stringify({
      architecture: "standard",
      d_in: d,
      d_sae: n,
      dtype: "float32",
      metadata: { model_name: "cluster-toy", hook_name: "blocks.2.hook_resid_post", neuronpedia_id: "cluster-toy/2-res" },
    }),
  );
  // Deterministic, direction-rich rows: a few sines per feature.
  const w = (i: number, a: number) => Math.sin(0.37 * i + a) + 0.5 * Math.cos(0.011 * i * (1 + (a % 7)));
  await writeSafetensors(
    join(dir, "sae_weights.safetensors"),
    {
      W_dec: { dtype: "F32", shape: [n, d], data: (i) => w(i, 1) },
      W_enc: { dtype: "F32", shape: [d, n], data: (i) => w(i, 2) },
      b_enc: { dtype: "F32", shape: [n], data: (i) => -0.01 * (i % 5) },
      b_dec: { dtype: "F32", shape: [d], data: (i) => 0.001 * i },
    },
    { format: "pt" },
  );
}

async function load(url: string, stop: string, out: string) {
  const saeId = flag("sae");
  const stats = { requests: 0, failed: 0, mutations: 0, readYourWrites: 0, staleReads: 0, errors: [] as string[] };
  const post = async (body: unknown, headers: Record<string, string> = {}) => {
    stats.requests++;
    const r = await fetch(`${url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await r.text();
    let json: { data?: any; errors?: { message: string }[] };
    try {
      json = JSON.parse(text);
    } catch {
      throw new Error(`HTTP ${r.status} at ${new Date().toISOString()}: ${text.replace(/\s+/g, " ").slice(0, 120)}`);
    }
    if (r.status !== 200 || json.errors) throw new Error(`HTTP ${r.status}: ${json.errors?.[0]?.message ?? "no data"}`);
    return { json, lsn: r.headers.get("monoscope-lsn") };
  };
  const page = { query: `query Page($s: ID!, $i: Int!) { feature(saeId: $s, index: $i) { index explanations { text } neighbors(k: 5) { cosine } } }` };
  let i = 0;
  const worker = async (w: number) => {
    while (!existsSync(stop)) {
      const index = (i++ * 7 + w) % 500;
      try {
        if (index % 10 === 0) {
          const text = `cluster label ${w}-${i}-${Date.now()}`;
          const m = await post({ query: `mutation L($s: ID!, $i: Int!, $t: String!) { addExplanation(saeId: $s, index: $i, text: $t) { text } }`, variables: { s: saeId, i: index, t: text } });
          stats.mutations++;
          if (!m.lsn) throw new Error("a mutation's response carried no Monoscope-LSN");
          const r = await post({ ...page, variables: { s: saeId, i: index } }, { "monoscope-lsn": m.lsn });
          if (r.json.data.feature.explanations.some((e: { text: string }) => e.text === text)) stats.readYourWrites++;
          else stats.staleReads++;
        } else {
          await post({ ...page, variables: { s: saeId, i: index } });
        }
      } catch (e) {
        stats.failed++;
        if (stats.errors.length < 20) stats.errors.push(String((e as Error).message ?? e));
      }
    }
  };
  await Promise.all([0, 1, 2, 3].map(worker));
  writeFileSync(out, JSON.stringify(stats, null, 2));
  console.log(JSON.stringify(stats));
}

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

async function checksums(url: string) {
  const result = await withClient(url, async (c) => {
    const tables = (await c.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`)).rows.map((r) => r.tablename as string);
    const out: Record<string, { rows: number; md5: string }> = {};
    for (const t of tables) {
      const q = `SELECT count(*)::int AS n, coalesce(md5(string_agg(h, '' ORDER BY h)), '') AS md5 FROM (SELECT md5(x::text) AS h FROM public."${t.replace(/"/g, '""')}" x) s`;
      const [row] = (await c.query(q)).rows;
      out[t] = { rows: row.n, md5: row.md5 };
    }
    return out;
  });
  console.log(JSON.stringify(result));
}

async function waitReplay(primary: string, standby: string) {
  const lsn = await withClient(primary, async (c) => (await c.query("SELECT pg_current_wal_lsn()::text AS l")).rows[0].l as string);
  const until = Date.now() + 120_000;
  for (;;) {
    const ok = await withClient(standby, async (c) => (await c.query("SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS ok", [lsn])).rows[0].ok as boolean).catch(() => false);
    if (ok) return console.log(`standby replayed ${lsn}`);
    if (Date.now() > until) throw new Error(`standby did not replay ${lsn} within 120 s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const [verb, target] = args;
switch (verb) {
  case "checkpoint":
    await checkpoint(target!);
    break;
  case "load":
    await load(flag("url"), flag("stop"), flag("out"));
    break;
  case "checksums":
    await checksums(flag("url"));
    break;
  case "wait-replay":
    await waitReplay(flag("primary"), flag("standby"));
    break;
  default:
    console.error("usage: cluster-tool.ts checkpoint DIR | load --url U --sae ID --stop F --out F | checksums --url U | wait-replay --primary U --standby U");
    process.exit(2);
}
