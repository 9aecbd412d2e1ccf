// SQL for attribution graphs: the graph row, its nodes and its links. A graph is written in one
// transaction (graph-write.repository.ts; a replace deletes the old rows in the same one), so
// readers see the old graph or the new one, never a mix.
import { z } from "zod";
import type { Database } from "../../db/database.ts";
import { CountRow, firstRow, onlyRow } from "../../db/rows.ts";
import type { FeatureKey } from "../../shared/feature-key.ts";
import { GraphRecord, type NewGraph, NodeKind, writeGraph } from "./graph-write.repository.ts";

export { GraphRecord, type NewGraph } from "./graph-write.repository.ts";

const json = z.record(z.string(), z.unknown());
const GraphFileRow = GraphRecord.extend({ metadata: json, qParams: json, extra: json });

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

  /** Writes a graph, first deleting any graph of the same slug, in one transaction (graph-write.repository.ts). */
  replace(g: NewGraph): Promise<GraphRecord> {
    return writeGraph(this.db, g);
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

const IdNumberRow = z.object({ id: z.number().int() });
