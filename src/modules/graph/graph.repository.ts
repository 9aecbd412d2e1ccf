// SQL for attribution graphs: the graph row, its nodes and its links. A graph is written in one
// transaction (a replace deletes the old rows in the same one), so readers see the old graph or
// the new one, never a mix. Nodes and links go in as column arrays (unnest), a chunk per
// statement, which both backends take as parameters.
import { z } from "zod";
import { openBulkConnection } from "../../db/bulk-connection.ts";
import { type BulkStatements, copyStatement } from "../../db/bulk.ts";
import type { Database } from "../../db/database.ts";
import { conflict } from "../../errors.ts";
import { CountRow, firstRow, onlyRow, parseRows } from "../../db/rows.ts";
import type { FeatureKey } from "../../shared/feature-key.ts";

export const GraphRecord = z.object({
  id: z.number().int(),
  slug: z.string(),
  modelId: z.string(),
  prompt: z.string(),
  promptTokens: z.array(z.string()),
  nodeCount: z.number().int(),
  linkCount: z.number().int(),
  contentHash: z.string(),
  createdAt: z.date(),
});
export type GraphRecord = z.infer<typeof GraphRecord>;

const json = z.record(z.string(), z.unknown());
const GraphFileRow = GraphRecord.extend({ metadata: json, qParams: json, extra: json });

const NodeKind = z.enum(["FEATURE", "ERROR", "EMBEDDING", "LOGIT"]);
const NodeRow = z.object({
  pos: z.number().int(),
  nodeId: z.string(),
  kind: NodeKind,
  layer: z.string(),
  ctxIdx: z.number().int(),
  influence: z.number().nullable(),
  activation: z.number().nullable(),
  tokenProb: z.number().nullable(),
  clerp: z.string().nullable(),
});
/** A node as the in-memory graph needs it, with the SAE feature its layer maps to (stored or not). */
const LiveNodeRow = NodeRow.extend({ saeId: z.string().nullable(), featureIdx: z.number().int().nullable() });
export type LiveNodeRow = z.infer<typeof LiveNodeRow>;
const FileNodeRow = NodeRow.extend({ fields: json });
export type FileNodeRow = z.infer<typeof FileNodeRow>;

export interface LinkArrays {
  source: number[];
  target: number[];
  weight: number[];
}
const bytes = z.custom<Uint8Array>((v) => v instanceof Uint8Array, "not a bytea value");
const LinkBytes = z.object({ source: bytes, target: bytes, weight: bytes });
const LinkExtraRow = z.object({ pos: z.number().int(), extra: json });

const AppearanceRow = z.object({ saeId: z.string(), featureIdx: z.number().int(), slug: z.string(), pos: z.number().int() });
export type AppearanceRow = z.infer<typeof AppearanceRow>;

export interface NewGraph {
  slug: string;
  modelId: string;
  prompt: string;
  promptTokens: string[];
  metadata: Record<string, unknown>;
  qParams: Record<string, unknown>;
  extra: Record<string, unknown>;
  contentHash: string;
  nodes: Array<{
    nodeId: string;
    kind: z.infer<typeof NodeKind>;
    layer: string;
    ctxIdx: number;
    influence: number | null;
    activation: number | null;
    tokenProb: number | null;
    clerp: string | null;
    saeId: string | null;
    featureIdx: number | null;
    fields: Record<string, unknown>;
  }>;
  links: Array<{ source: number; target: number; weight: number; extra: Record<string, unknown> | null }>;
}

export interface GraphExportRows {
  graph: z.infer<typeof GraphFileRow>;
  nodes: FileNodeRow[];
  links: LinkArrays & { extra: Array<Record<string, unknown> | null> };
}


export class GraphRepository {
  constructor(private readonly db: Database) {}

  async bySlug(slug: string): Promise<GraphRecord | null> {
    return firstRow(
      GraphRecord,
      await this.db.sql`/* graph.bySlug */
        SELECT id, slug, model_id AS "modelId", prompt, prompt_tokens AS "promptTokens", node_count AS "nodeCount",
          link_count AS "linkCount", content_hash AS "contentHash", created_at AS "createdAt"
        FROM attribution_graph WHERE slug = ${slug}`,
    );
  }

  async bySlugs(slugs: readonly string[]): Promise<GraphRecord[]> {
    return this.db.rows(GraphRecord)`/* graph.bySlugs */
      SELECT id, slug, model_id AS "modelId", prompt, prompt_tokens AS "promptTokens", node_count AS "nodeCount",
        link_count AS "linkCount", content_hash AS "contentHash", created_at AS "createdAt"
      FROM attribution_graph WHERE slug = ANY(${[...slugs]}::text[])`;
  }

  /** By model (or all), in slug order. */
  async list(modelId: string | null, first: number): Promise<GraphRecord[]> {
    return this.db.rows(GraphRecord)`/* graph.list */
      SELECT id, slug, model_id AS "modelId", prompt, prompt_tokens AS "promptTokens", node_count AS "nodeCount",
        link_count AS "linkCount", content_hash AS "contentHash", created_at AS "createdAt"
      FROM attribution_graph WHERE (${modelId}::text IS NULL OR model_id = ${modelId}::text)
      ORDER BY slug LIMIT ${first}`;
  }

  /**
   * Writes a graph, first deleting any graph of the same slug, in one transaction on the bulk
   * connection: links go in by binary COPY (a million links would otherwise cost a million
   * parameters' parsing), nodes as column arrays.
   */
  async replace(g: NewGraph): Promise<GraphRecord> {
    const conn = await openBulkConnection(this.db);
    let broken = false;
    try {
      return await conn.transaction(async (c) => {
        const old = await c.query("/* graph_old_id */ SELECT id FROM attribution_graph WHERE slug = $1 FOR UPDATE", [g.slug]);
        for (const { id } of parseRows(IdRow, old)) await deleteGraphRows(c, id);
        const row = onlyRow(
          GraphRecord,
          await c.query(
            `/* graph_insert */ INSERT INTO attribution_graph (slug, model_id, prompt, prompt_tokens, metadata, q_params, extra, node_count, link_count, content_hash)
             VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, $6::jsonb, $7::jsonb, $8, $9, $10)
             RETURNING id, slug, model_id AS "modelId", prompt, prompt_tokens AS "promptTokens", node_count AS "nodeCount",
               link_count AS "linkCount", content_hash AS "contentHash", created_at AS "createdAt"`,
            [g.slug, g.modelId, g.prompt, JSON.stringify(g.promptTokens), JSON.stringify(g.metadata), JSON.stringify(g.qParams), JSON.stringify(g.extra), g.nodes.length, g.links.length, g.contentHash],
          ),
        );
        for (let at = 0; at < g.nodes.length; at += NODE_CHUNK) await insertNodes(c, row.id, at, g.nodes.slice(at, at + NODE_CHUNK));
        for (let at = 0; at < g.links.length; at += LINK_CHUNK) await c.copy(LINK_COPY, encodeLinks(row.id, at, g.links, Math.min(g.links.length, at + LINK_CHUNK)));
        return row;
      });
    } catch (e) {
      broken = true;
      // Two first ingests of one slug at once: the second loses on the unique slug.
      if ((e as { code?: unknown }).code === "23505") throw conflict(`graph ${JSON.stringify(g.slug)} is being ingested by another process; try again`);
      throw e;
    } finally {
      await conn.release(broken);
    }
  }

  async delete(slug: string): Promise<boolean> {
    return this.db.sqlTransaction(async (tx) => {
      const ids = await tx.rows(IdNumberRow)`/* graph.deleteLock */ SELECT id FROM attribution_graph WHERE slug = ${slug} FOR UPDATE`;
      for (const { id } of ids) {
        await tx.run`/* graph.deleteLinks */ DELETE FROM graph_link WHERE graph_id = ${id}`;
        await tx.run`/* graph.deleteGraph */ DELETE FROM attribution_graph WHERE id = ${id}`;
      }
      return ids.length > 0;
    });
  }

  /** Nodes in file order. Whether a mapped feature is stored is asked per request (it may be ingested later). */
  async liveNodes(graphId: number): Promise<LiveNodeRow[]> {
    return this.db.rows(LiveNodeRow)`/* graph.liveNodes */
      SELECT pos, node_id AS "nodeId", kind, layer, ctx_idx AS "ctxIdx", influence, activation,
        token_prob AS "tokenProb", clerp, sae_id AS "saeId", feature_idx AS "featureIdx"
      FROM graph_node WHERE graph_id = ${graphId} ORDER BY pos`;
  }

  /** How many of a graph's mapped nodes are stored features of a ready SAE. */
  async linkedCount(graphId: number): Promise<number> {
    return onlyRow(
      CountRow,
      await this.db.sql`/* graph.linkedCount */
        SELECT count(*)::int AS n FROM graph_node g
        JOIN feature f ON f.sae_id = g.sae_id AND f.idx = g.feature_idx
        JOIN sae s ON s.id = f.sae_id AND s.status = 'ready'
        WHERE g.graph_id = ${graphId}`,
    ).n;
  }

  /**
   * Every link as three columns in file order, each one bytea of big-endian int4 / float8 values:
   * one row, and no text to parse (a million links as rows or as array text took seconds).
   */
  async linkArrays(graphId: number): Promise<LinkArrays> {
    const row = onlyRow(
      LinkBytes,
      await this.db.sql`/* graph.linkArrays */
        SELECT coalesce(string_agg(int4send(source), ''::bytea ORDER BY pos), ''::bytea) AS source,
          coalesce(string_agg(int4send(target), ''::bytea ORDER BY pos), ''::bytea) AS target,
          coalesce(string_agg(float8send(weight), ''::bytea ORDER BY pos), ''::bytea) AS weight
        FROM graph_link WHERE graph_id = ${graphId}`,
    );
    const n = row.source.byteLength / 4;
    if (row.target.byteLength !== n * 4 || row.weight.byteLength !== n * 8) throw new Error("invariant failed: link columns of different lengths");
    const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
    const [s, t, w] = [view(row.source), view(row.target), view(row.weight)];
    const out = { source: new Array<number>(n), target: new Array<number>(n), weight: new Array<number>(n) };
    for (let i = 0; i < n; i++) {
      out.source[i] = s.getInt32(i * 4);
      out.target[i] = t.getInt32(i * 4);
      out.weight[i] = w.getFloat64(i * 8);
    }
    return out;
  }

  /** Everything an export rebuilds the file from. */
  async exportRows(slug: string): Promise<GraphExportRows | null> {
    const graph = firstRow(
      GraphFileRow,
      await this.db.sql`/* graph.exportGraph */
        SELECT id, slug, model_id AS "modelId", prompt, prompt_tokens AS "promptTokens", node_count AS "nodeCount",
          link_count AS "linkCount", content_hash AS "contentHash", created_at AS "createdAt", metadata, q_params AS "qParams", extra
        FROM attribution_graph WHERE slug = ${slug}`,
    );
    if (!graph) return null;
    const nodes = await this.db.rows(FileNodeRow)`/* graph.exportNodes */
      SELECT pos, node_id AS "nodeId", kind, layer, ctx_idx AS "ctxIdx", influence, activation, token_prob AS "tokenProb", clerp, fields
      FROM graph_node WHERE graph_id = ${graph.id} ORDER BY pos`;
    const arrays = await this.linkArrays(graph.id);
    const extra = new Array<Record<string, unknown> | null>(arrays.source.length).fill(null);
    for (const r of await this.db.rows(LinkExtraRow)`/* graph.exportLinkExtra */
      SELECT pos, extra FROM graph_link WHERE graph_id = ${graph.id} AND extra IS NOT NULL`) {
      extra[r.pos] = r.extra;
    }
    return { graph, nodes, links: { ...arrays, extra } };
  }

  /** The graph nodes that are these features, at most `first` per feature, by graph slug. */
  async appearances(keys: readonly FeatureKey[], first: number): Promise<AppearanceRow[]> {
    return this.db.rows(AppearanceRow)`/* graph.appearances */
      SELECT "saeId", "featureIdx", slug, pos FROM (
        SELECT n.sae_id AS "saeId", n.feature_idx AS "featureIdx", g.slug, n.pos,
          row_number() OVER (PARTITION BY n.sae_id, n.feature_idx ORDER BY g.slug, n.pos) AS r
        FROM unnest(${keys.map((k) => k.saeId)}::text[], ${keys.map((k) => k.index)}::int[]) AS k(sae_id, idx)
        JOIN graph_node n ON n.sae_id = k.sae_id AND n.feature_idx = k.idx
        JOIN attribution_graph g ON g.id = n.graph_id
      ) x WHERE r <= ${first}
      ORDER BY "saeId", "featureIdx", r`;
  }
}

const IdRow = z.object({ id: z.number().int() });
const IdNumberRow = IdRow;
const NODE_CHUNK = 20_000;
const LINK_CHUNK = 200_000;
const LINK_COPY = copyStatement("graph_link", "graph_link", "(graph_id, pos, source, target, weight, extra)");

/** graph_link has no foreign key (a per-row check on every link of an ingest): its rows go first, by hand. */
async function deleteGraphRows(c: BulkStatements, id: number): Promise<void> {
  await c.query("/* graph_delete_links */ DELETE FROM graph_link WHERE graph_id = $1", [id]);
  await c.query("/* graph_delete */ DELETE FROM attribution_graph WHERE id = $1", [id]);
}

async function insertNodes(c: BulkStatements, graphId: number, offset: number, nodes: NewGraph["nodes"]): Promise<void> {
  await c.query(
    `/* graph_insert_nodes */
    INSERT INTO graph_node (graph_id, pos, node_id, kind, layer, ctx_idx, influence, activation, token_prob, clerp, sae_id, feature_idx, fields)
    SELECT $1, $2 + ord::int - 1, node_id, kind, layer, ctx_idx, influence, activation, token_prob, clerp, sae_id, feature_idx, fields::jsonb
    FROM unnest($3::text[], $4::text[], $5::text[], $6::int[], $7::float8[], $8::float8[], $9::float8[], $10::text[], $11::text[], $12::int[], $13::text[])
      WITH ORDINALITY AS u(node_id, kind, layer, ctx_idx, influence, activation, token_prob, clerp, sae_id, feature_idx, fields, ord)`,
    [
      graphId,
      offset,
      nodes.map((n) => n.nodeId),
      nodes.map((n) => n.kind),
      nodes.map((n) => n.layer),
      nodes.map((n) => n.ctxIdx),
      nodes.map((n) => n.influence),
      nodes.map((n) => n.activation),
      nodes.map((n) => n.tokenProb),
      nodes.map((n) => n.clerp),
      nodes.map((n) => n.saeId),
      nodes.map((n) => n.featureIdx),
      nodes.map((n) => JSON.stringify(n.fields)),
    ],
  );
}

/** Links from..to-1 as binary COPY tuples: graph_id, pos, source, target int4; weight float8; extra jsonb or NULL. */
function encodeLinks(graphId: number, from: number, links: NewGraph["links"], to: number): Buffer {
  const extras: Array<Buffer | null> = [];
  let size = 0;
  for (let i = from; i < to; i++) {
    const e = links[i]!.extra;
    const b = e ? Buffer.from(JSON.stringify(e), "utf8") : null;
    extras.push(b);
    size += 2 + 4 * 8 + 12 + 4 + (b ? 1 + b.length : 0);
  }
  const buf = Buffer.allocUnsafe(size);
  let p = 0;
  const int4 = (v: number) => {
    buf.writeInt32BE(4, p);
    buf.writeInt32BE(v, p + 4);
    p += 8;
  };
  for (let i = from; i < to; i++) {
    const l = links[i]!;
    buf.writeInt16BE(6, p);
    p += 2;
    int4(graphId);
    int4(i);
    int4(l.source);
    int4(l.target);
    buf.writeInt32BE(8, p);
    buf.writeDoubleBE(l.weight, p + 4);
    p += 12;
    const e = extras[i - from];
    if (e) {
      // jsonb's binary form: a version byte (1), then the text.
      buf.writeInt32BE(e.length + 1, p);
      buf.writeUInt8(1, p + 4);
      e.copy(buf, p + 5);
      p += 5 + e.length;
    } else {
      buf.writeInt32BE(-1, p);
      p += 4;
    }
  }
  return buf;
}
