// PostGraphile v4, the peer in the deploy suite's feature-page comparison. Installed at bench time
// into a scratch prefix (npm install --prefix, as scripts/demo-dataset/inputs.ts does), never into
// package.json: v4 pins graphql 15 and brings engine warnings a user of Monoscope should not see.
// Run in its production settings (no watch, query log off, no GraphiQL), over the same database,
// with the same pool size; neighbours come from the stored lists through a SQL function (a
// computed column), as Monoscope serves them.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";

export const POSTGRAPHILE = { name: "postgraphile", version: "4.14.1" } as const;

export function installPostgraphile(prefix: string, log: (s: string) => void): void {
  const pkg = join(prefix, "node_modules", POSTGRAPHILE.name, "package.json");
  if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, "utf8")) as { version: string }).version === POSTGRAPHILE.version) return;
  mkdirSync(prefix, { recursive: true });
  log(`npm install --prefix ${prefix} ${POSTGRAPHILE.name}@${POSTGRAPHILE.version}`);
  execFileSync("npm", ["install", "--prefix", prefix, "--no-save", "--no-audit", "--no-fund", "--ignore-scripts", `${POSTGRAPHILE.name}@${POSTGRAPHILE.version}`], {
    stdio: ["ignore", "ignore", "inherit"],
  });
}

/** The computed column Feature.neighbours(k): the stored list, best first. */
export async function createNeighbourFunction(url: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(`CREATE OR REPLACE FUNCTION public.feature_neighbours(f public.feature, k int DEFAULT 10)
      RETURNS TABLE (idx int, cosine real) LANGUAGE sql STABLE AS $$
        SELECT u.i, u.c FROM unnest(f.nn_indices[1:k], f.nn_cosines[1:k]) WITH ORDINALITY AS u(i, c, o) ORDER BY u.o
      $$`);
    // graph_node's node_id column collides with PostGraphile's own nodeId field (a naming conflict
    // that stops its schema build); the feature page does not use the table, so PostGraphile omits it.
    await c.query(`DO $$ BEGIN IF to_regclass('public.graph_node') IS NOT NULL THEN COMMENT ON TABLE public.graph_node IS E'@omit'; END IF; END $$`);
  } finally {
    await c.end();
  }
}

const SERVER = `// Written by scripts/bench/deploy-postgraphile.ts.
const http = require("node:http");
const { Pool } = require("pg");
const { postgraphile } = require("postgraphile");
const { makeJSONPgSmartTagsPlugin } = require("graphile-utils");
const pool = new Pool({ connectionString: process.env.PGL_URL, max: Number(process.env.PGL_POOL) });
// PostGraphile's production settings (its docs' "Recommended options"): no watch, no query log.
const handler = postgraphile(pool, "public", {
  watchPg: false, disableQueryLog: true, graphiql: false, enhanceGraphiql: false, retryOnInitFail: false,
  dynamicJson: true, setofFunctionsContainNulls: false, ignoreRBAC: false, extendedErrors: ["errcode"],
  legacyRelations: "omit", enableQueryBatching: false, subscriptions: false,
  // The per-SAE tables are partitioned (LIST by sae_id): PostGraphile's own option for that
  // exposes each partitioned parent as one table (and hides the partitions), as a deployment would.
  graphileBuildOptions: { pgUsePartitionedParent: true },
  // The keys between partitioned tables live on each SAE's partitions (migration
  // 20261203020000), so the parents carry none for PostGraphile to find: the same keys, declared
  // to it as smart tags (its documented way for relations without a key on the table itself).
  appendPlugins: [makeJSONPgSmartTagsPlugin({ version: 1, config: { class: JSON.parse(process.env.PGL_KEYS || "{}") } })],
});
const server = http.createServer(handler);
server.keepAliveTimeout = 65000;
server.listen(0, "127.0.0.1", () => console.error("postgraphile at http://127.0.0.1:" + server.address().port));
process.on("SIGTERM", () => server.close(() => pool.end().then(() => process.exit(0))));
`;

export interface PeerServer {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** The keys between partitioned tables as PostGraphile smart tags: { table: { tags: { foreignKey: [...] } } }. */
async function partitionKeyTags(url: string): Promise<Record<string, { tags: { foreignKey: string[] } }>> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const has = await c.query("SELECT to_regproc('monoscope_sibling_foreign_keys') IS NOT NULL AS ok");
    if (!has.rows[0].ok) return {};
    const { rows } = await c.query<{ tbl: string; cols: string; ref: string; refcols: string }>("SELECT tbl, cols, ref, refcols FROM monoscope_sibling_foreign_keys()");
    const out: Record<string, { tags: { foreignKey: string[] } }> = {};
    const bare = (cols: string) => cols.replaceAll('"', "");
    for (const r of rows) (out[r.tbl] ??= { tags: { foreignKey: [] } }).tags.foreignKey.push(`(${bare(r.cols)}) references ${r.ref} (${bare(r.refcols)})`);
    return out;
  } finally {
    await c.end();
  }
}

export async function startPostgraphile(prefix: string, url: string, poolSize: number): Promise<PeerServer> {
  const file = join(prefix, "server.cjs");
  writeFileSync(file, SERVER);
  const keys = JSON.stringify(await partitionKeyTags(url));
  const child: ChildProcess = spawn(process.execPath, [file], { cwd: prefix, env: { ...process.env, PGL_URL: url, PGL_POOL: String(poolSize), PGL_KEYS: keys, NODE_ENV: "production" }, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  const base = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`PostGraphile did not start in 60 s:\n${stderr}`)), 60_000);
    child.stderr!.on("data", (b: Buffer) => {
      stderr += b.toString();
      const m = /postgraphile at (http:\/\/\S+)/.exec(stderr);
      if (m) clearTimeout(timer), resolve(m[1]!);
    });
    child.on("exit", (code) => reject(new Error(`PostGraphile exited (${code}):\n${stderr}`)));
  });
  return {
    url: base,
    pid: child.pid!,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (child.exitCode === null) child.kill("SIGKILL");
    },
  };
}

/**
 * The feature-page query in PostGraphile's generated schema. Relation names depend on its
 * inflector, so they are read from the schema rather than guessed.
 */
export async function postgraphileFeatureQuery(url: string, activations: number, neighbours: number): Promise<string> {
  const r = await fetch(`${url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query: `{ __schema { queryType { fields { name args { name } } } } __type(name: "Feature") { fields { name type { name ofType { name } } } } }` }),
  });
  const j = (await r.json()) as { data: { __schema: { queryType: { fields: { name: string; args: { name: string }[] }[] } }; __type: { fields: { name: string; type: { name: string | null; ofType: { name: string | null } | null } }[] } } };
  const byKey = j.data.__schema.queryType.fields.find((f) => f.name.startsWith("feature") && f.args.map((a) => a.name).sort().join() === "idx,saeId");
  const field = (typeName: string) => j.data.__type.fields.find((f) => (f.type.name ?? f.type.ofType?.name) === typeName)?.name;
  const acts = field("ActivationsConnection");
  const expl = field("ExplanationsConnection");
  const nn = field("FeatureNeighboursConnection");
  if (!byKey || !acts || !expl || !nn) throw new Error("PostGraphile's schema lacks the feature lookup or its relations (was the neighbour function created before it started?)");
  return `query Page($s: String!, $i: Int!) { ${byKey.name}(saeId: $s, idx: $i) { idx
    ${expl}(orderBy: PRIMARY_KEY_ASC) { nodes { text } }
    ${acts}(first: ${activations}, orderBy: PRIMARY_KEY_ASC) { nodes { tokens values } }
    ${nn}(k: ${neighbours}) { nodes { idx cosine } } } }`;
}

/** The feature page in Monoscope's schema: labels, top activations, neighbours from the stored list. */
export const monoscopeFeatureQuery = (activations: number, neighbours: number) => `query Page($s: ID!, $i: Int!) { feature(saeId: $s, index: $i) { index explanations { text }
  topActivations(first: ${activations}) { tokens values } neighbors(k: ${neighbours}) { feature { index } cosine } } }`;

/** Both servers' pages for 25 features spread over the SAE must be equal (the bar compares like with like). */
export async function assertEqualPages(monoUrl: string, monoQuery: string, peerUrl: string, peerQuery: string, saeId: string, features: number): Promise<void> {
  const post = async (u: string, body: unknown) => (await fetch(`${u}/graphql`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })).json() as Promise<any>;
  for (let k = 0; k < 25; k++) {
    const i = (k * 613) % features;
    const a = await post(monoUrl, { query: monoQuery, variables: { s: saeId, i } });
    const b = await post(peerUrl, { query: peerQuery, variables: { s: saeId, i } });
    if (a.errors || b.errors) throw new Error(`feature ${i}: ${JSON.stringify(a.errors ?? b.errors)}`);
    const [ma, pb] = [JSON.stringify(pageFromMonoscope(a.data)), JSON.stringify(pageFromPostgraphile(b.data))];
    if (ma !== pb) throw new Error(`feature ${i}: the answers differ\nmonoscope:   ${ma}\npostgraphile: ${pb}`);
  }
}

export interface FeaturePage {
  index: number;
  labels: string[];
  activations: { tokens: string[]; values: number[] }[];
  neighbours: { index: number; cosine: number }[];
}

/** Both answers in one shape, cosines and activation values at float32 precision. */
export function pageFromMonoscope(data: any): FeaturePage {
  const f = data.feature;
  return {
    index: f.index,
    labels: f.explanations.map((e: { text: string }) => e.text).sort(),
    activations: f.topActivations.map((a: { tokens: string[]; values: number[] }) => ({ tokens: a.tokens, values: a.values.map(Math.fround) })),
    neighbours: f.neighbors.map((n: { feature: { index: number }; cosine: number }) => ({ index: n.feature.index, cosine: Math.fround(n.cosine) })),
  };
}

export function pageFromPostgraphile(data: any): FeaturePage {
  const f = Object.values(data)[0] as Record<string, any>;
  const conn = (suffix: string) => Object.entries(f).find(([k]) => k.startsWith(suffix))![1].nodes as any[];
  return {
    index: f.idx,
    labels: conn("explanations").map((e) => e.text).sort(),
    activations: conn("activations").map((a) => ({ tokens: a.tokens, values: a.values.map(Math.fround) })),
    neighbours: conn("neighbours").map((n) => ({ index: n.idx, cosine: Math.fround(n.cosine) })),
  };
}
