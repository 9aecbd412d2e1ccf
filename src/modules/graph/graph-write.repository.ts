// The write path of attribution graphs, on the bulk connection: one transaction deletes any graph
// of the same slug and writes the new one; links go in by binary COPY (a million links as
// parameters cost seconds of parsing), nodes as column arrays.
import { z } from "zod";
import { openBulkConnection } from "../../db/bulk-connection.ts";
import { type BulkStatements, copyStatement } from "../../db/bulk.ts";
import type { Database } from "../../db/database.ts";
import { onlyRow, parseRows } from "../../db/rows.ts";
import { conflict } from "../../errors.ts";

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

export const NodeKind = z.enum(["FEATURE", "ERROR", "EMBEDDING", "LOGIT"]);

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

/** Writes a graph, first deleting any graph of the same slug, in one transaction. */
export async function writeGraph(db: Database, g: NewGraph): Promise<GraphRecord> {
  const conn = await openBulkConnection(db);
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

const IdRow = z.object({ id: z.number().int() });
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
