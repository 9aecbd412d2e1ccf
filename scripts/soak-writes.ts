// The soak's write mode (`scripts/soak.ts --writes`): while N clients read, a second
// process ingests small SAEs and deletes them again, and every read of one of them is
// checked for consistency. An SAE is visible only whole: absent (null), or with all its
// features, and a feature read is absent or carries every example and the label that was
// ingested with it, never some of them. Reads of the soak's main SAE run alongside.
//
// The writer is this script's own App on DATABASE_URL (PostgreSQL): the embedded backend's
// data dir is held by the server, so write mode needs a database two processes can share.
import { createApp, type App } from "../src/app.ts";
import type { Config } from "../src/config.ts";
import { silentLogger } from "../src/logger.ts";

export const WRITE_MODEL = "soak-write";
const FEATURES = 64;
const EXAMPLES = 3;
const TOKENS = ["The", " cat", " sat", " on", " mats"];
const label = (i: number) => `written feature ${i}`;
const writtenId = (n: number) => `${WRITE_MODEL}/w${n}`;

export const WRITTEN_QUERY = `query Written($s: ID!, $i: Int!) { sae(id: $s) { featureCount }
  feature(saeId: $s, index: $i) { index explanations { text method } topActivations(first: 10) { tokens values } } }`;

export interface WriteStats {
  ingested: number;
  deleted: number;
  writeErrors: string[];
}

/** Ingests SAEs of 64 features (3 examples and a label each) and deletes all but the newest two, until stopped. */
export function startWriter(config: Config, pauseMs: number) {
  const stats: WriteStats = { ingested: 0, deleted: 0, writeErrors: [] };
  let stopping = false;
  let newest = -1;
  let app: App | null = null;
  const done = (async () => {
    app = await createApp(config, { log: silentLogger });
    const live: string[] = [];
    for (let n = 0; !stopping; n++) {
      const id = writtenId(n);
      try {
        await ingestOne(app, id);
        stats.ingested++;
        newest = n;
        live.push(id);
        while (live.length > 2) {
          await app.services.ingest.removeSae(live.shift()!);
          stats.deleted++;
        }
      } catch (e) {
        stats.writeErrors.push(`${id}: ${(e as Error).message}`);
      }
      await new Promise((r) => setTimeout(r, pauseMs));
    }
    for (const id of live) await app.services.ingest.removeSae(id).catch(() => {});
  })();
  return {
    stats,
    /** An id a reader may ask for: recently deleted, live, or about to be ingested. */
    pick(rand: () => number): string {
      return writtenId(Math.max(0, newest - 3 + Math.floor(rand() * 5)));
    },
    async stop(): Promise<WriteStats> {
      stopping = true;
      await done;
      await app?.close();
      return stats;
    },
  };
}

async function ingestOne(app: App, id: string): Promise<void> {
  const dIn = 16;
  await app.services.ingest.ingestSae(
    {
      model: { id: WRITE_MODEL },
      sae: { id, architecture: "standard", dIn, dSae: FEATURES },
      source: { format: "native", path: "soak-writer" },
      contentHash: `soak-writer-${id}`,
    },
    async (sink) => {
      const rows = [];
      const acts = [];
      const labels = [];
      for (let i = 0; i < FEATURES; i++) {
        const v = new Float32Array(dIn);
        v[i % dIn] = 1;
        v[(i * 7 + 3) % dIn] += 0.5;
        rows.push({ index: i, decoder: v, density: 0.001 * (i + 1), maxActivation: 5 });
        for (let e = 0; e < EXAMPLES; e++) acts.push({ index: i, tokens: TOKENS, values: [0, 5 - e, 0, 1, 0], kind: "top" as const });
        labels.push({ index: i, text: label(i) });
      }
      await sink.features(rows);
      await sink.activations(acts);
      await sink.explanations(labels);
    },
  );
}

/**
 * What is wrong with one answer to WRITTEN_QUERY (null when nothing is). `feature`: a feature
 * present without exactly what was ingested with it (half-present). `sae`: the SAE visible
 * with another feature count: its row and its count are two statements, and a read that
 * straddled a delete that dropped its rows at once would see the row from before it and the
 * count from after (deleteSae keeps the rows for a grace period, so this must not happen).
 */
export function inconsistency(data: any, index: number): { kind: "feature" | "sae"; what: string } | null {
  if (!data || !("sae" in data) || !("feature" in data)) return { kind: "feature", what: "no data" };
  const f = data.feature;
  const half = (what: string) => ({ kind: "feature" as const, what });
  if (f !== null) {
    if (f.index !== index) return half(`asked for feature ${index}, got ${f.index}`);
    if (f.topActivations.length !== EXAMPLES) return half(`feature ${index} has ${f.topActivations.length} of ${EXAMPLES} examples`);
    for (const a of f.topActivations) {
      if (a.tokens.length !== TOKENS.length || a.values.length !== TOKENS.length) return half(`feature ${index} has an example of ${a.tokens.length} tokens`);
    }
    const imported = f.explanations.filter((x: any) => x.method === "imported");
    if (imported.length !== 1 || imported[0].text !== label(index)) return half(`feature ${index} has ${imported.length} imported labels`);
  }
  if (data.sae !== null && data.sae.featureCount !== FEATURES) return { kind: "sae", what: `SAE visible with ${data.sae.featureCount} of ${FEATURES} features` };
  return null;
}

export interface ReadStats {
  reads: number;
  failed: number;
  writtenReads: number;
  /** Features read whole / read as absent. */
  present: number;
  absent: number;
  /** Features read half-present (must be 0). */
  halfPresent: number;
  /** SAE rows read with a feature count from after a delete committed (see inconsistency; must be 0). */
  saeCountAcrossDelete: number;
  /** The SAE and the feature disagree on presence within one answer (read while it appeared or went; allowed: each is whole). */
  straddled: number;
  examples: string[];
}

/** `connections` clients reading in a loop for `seconds`: a share of reads go to the written SAEs. */
export async function readLoop(
  url: string,
  o: { connections: number; seconds: number; writtenShare: number },
  next: () => { query: string; variables: Record<string, unknown> },
  pickWritten: () => { id: string; index: number },
): Promise<ReadStats> {
  const s: ReadStats = { reads: 0, failed: 0, writtenReads: 0, present: 0, absent: 0, halfPresent: 0, saeCountAcrossDelete: 0, straddled: 0, examples: [] };
  const note = (what: string) => s.examples.length < 10 && s.examples.push(what);
  const until = Date.now() + o.seconds * 1000;
  const client = async (c: number) => {
    let k = c;
    while (Date.now() < until) {
      const written = (k++ * 0.618) % 1 < o.writtenShare;
      const pick = written ? pickWritten() : null;
      const body = pick ? { query: WRITTEN_QUERY, variables: { s: pick.id, i: pick.index } } : next();
      s.reads++;
      try {
        const res = await fetch(`${url}/graphql`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body), signal: AbortSignal.timeout(30_000) });
        const json: any = await res.json();
        if (res.status !== 200 || json.errors) {
          s.failed++;
          note(`HTTP ${res.status}: ${JSON.stringify(json.errors ?? json).slice(0, 200)}`);
          continue;
        }
        if (!pick) continue;
        s.writtenReads++;
        const wrong = inconsistency(json.data, pick.index);
        if (wrong) note(`${pick.id}: ${wrong.what}`);
        if (wrong?.kind === "feature") s.halfPresent++;
        else if (json.data.feature) s.present++;
        else s.absent++;
        if (wrong?.kind === "sae") s.saeCountAcrossDelete++;
        if ((json.data.sae === null) !== (json.data.feature === null)) s.straddled++;
      } catch (e) {
        s.failed++;
        note(`transport: ${(e as Error).message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: o.connections }, (_, c) => client(c)));
  return s;
}

export { FEATURES as WRITTEN_FEATURES };
