// SQL for attribution graphs: the graph row, its nodes and its links. A graph is written in one
// transaction (a replace deletes the old rows in the same one), so readers see the old graph or
// the new one, never a mix. Nodes and links go in as column arrays (unnest), a chunk per
// statement, which both backends take as parameters.
import { z } from "zod";
import type { Database, SqlStatements } from "../../db/database.ts";
import { CountRow, firstRow, intArray, numberArray, onlyRow } from "../../db/rows.ts";
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

const LinkArrays = z.object({ source: intArray, target: intArray, weight: numberArray });
export type LinkArrays = z.infer<typeof LinkArrays>;
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

const CHUNK = 20_000;

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

  /** Writes a graph, first deleting any graph of the same slug, in one transaction. */
  async replace(g: NewGraph): Promise<GraphRecord> {
    return this.db.sqlTransaction(async (tx) => {
      await tx.run`/* graph.deleteForReplace */ DELETE FROM attribution_graph WHERE slug = ${g.slug}`;
      const row = onlyRow(
        GraphRecord,
        await tx.sql`/* graph.insert */
          INSERT INTO attribution_graph (slug, model_id, prompt, prompt_tokens, metadata, q_params, extra, node_count, link_count, content_hash)
          VALUES (${g.slug}, ${g.modelId}, ${g.prompt}, ${JSON.stringify(g.promptTokens)}::jsonb, ${JSON.stringify(g.metadata)}::jsonb,
            ${JSON.stringify(g.qParams)}::jsonb, ${JSON.stringify(g.extra)}::jsonb, ${g.nodes.length}, ${g.links.length}, ${g.contentHash})
          RETURNING id, slug, model_id AS "modelId", prompt, prompt_tokens AS "promptTokens", node_count AS "nodeCount",
            link_count AS "linkCount", content_hash AS "contentHash", created_at AS "createdAt"`,
      );
      for (let at = 0; at < g.nodes.length; at += CHUNK) await insertNodes(tx, row.id, at, g.nodes.slice(at, at + CHUNK));
      for (let at = 0; at < g.links.length; at += CHUNK * 5) await insertLinks(tx, row.id, at, g.links.slice(at, at + CHUNK * 5));
      return row;
    });
  }

  async delete(slug: string): Promise<boolean> {
    return (await this.db.run`/* graph.delete */ DELETE FROM attribution_graph WHERE slug = ${slug}`) > 0;
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

  /** Every link as three columns in file order (one row: far cheaper than a row per link). */
  async linkArrays(graphId: number): Promise<LinkArrays> {
    const row = firstRow(
      LinkArrays,
      await this.db.sql`/* graph.linkArrays */
        SELECT coalesce(array_agg(source ORDER BY pos), '{}') AS source, coalesce(array_agg(target ORDER BY pos), '{}') AS target,
          coalesce(array_agg(weight ORDER BY pos), '{}') AS weight
        FROM graph_link WHERE graph_id = ${graphId}`,
    );
    return row ?? { source: [], target: [], weight: [] };
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

async function insertNodes(tx: SqlStatements, graphId: number, offset: number, nodes: NewGraph["nodes"]): Promise<void> {
  await tx.run`/* graph.insertNodes */
    INSERT INTO graph_node (graph_id, pos, node_id, kind, layer, ctx_idx, influence, activation, token_prob, clerp, sae_id, feature_idx, fields)
    SELECT ${graphId}, ${offset} + ord::int - 1, node_id, kind, layer, ctx_idx, influence, activation, token_prob, clerp, sae_id, feature_idx, fields::jsonb
    FROM unnest(${nodes.map((n) => n.nodeId)}::text[], ${nodes.map((n) => n.kind)}::text[], ${nodes.map((n) => n.layer)}::text[],
      ${nodes.map((n) => n.ctxIdx)}::int[], ${nodes.map((n) => n.influence)}::float8[], ${nodes.map((n) => n.activation)}::float8[],
      ${nodes.map((n) => n.tokenProb)}::float8[], ${nodes.map((n) => n.clerp)}::text[], ${nodes.map((n) => n.saeId)}::text[],
      ${nodes.map((n) => n.featureIdx)}::int[], ${nodes.map((n) => JSON.stringify(n.fields))}::text[])
      WITH ORDINALITY AS u(node_id, kind, layer, ctx_idx, influence, activation, token_prob, clerp, sae_id, feature_idx, fields, ord)`;
}

async function insertLinks(tx: SqlStatements, graphId: number, offset: number, links: NewGraph["links"]): Promise<void> {
  const source = links.map((l) => l.source);
  const target = links.map((l) => l.target);
  const weight = links.map((l) => l.weight);
  if (links.every((l) => l.extra === null)) {
    await tx.run`/* graph.insertLinks */
      INSERT INTO graph_link (graph_id, pos, source, target, weight)
      SELECT ${graphId}, ${offset} + ord::int - 1, s, t, w
      FROM unnest(${source}::int[], ${target}::int[], ${weight}::float8[]) WITH ORDINALITY AS u(s, t, w, ord)`;
    return;
  }
  await tx.run`/* graph.insertLinksExtra */
    INSERT INTO graph_link (graph_id, pos, source, target, weight, extra)
    SELECT ${graphId}, ${offset} + ord::int - 1, s, t, w, e::jsonb
    FROM unnest(${source}::int[], ${target}::int[], ${weight}::float8[], ${links.map((l) => (l.extra ? JSON.stringify(l.extra) : null))}::text[])
      WITH ORDINALITY AS u(s, t, w, e, ord)`;
}
