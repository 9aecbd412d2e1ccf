// The single, reviewed exception to "no string-built SQL": vector indexes need a
// fixed dimension that is known only at ingest, so their DDL is assembled here from
// validated identifiers and integers only. Nothing else in the code base may build SQL text.
import { createHash } from "node:crypto";
import { AppError, ErrorCode } from "../errors.ts";
import { Prisma } from "../generated/prisma/client.ts";
import type { Database } from "./database.ts";

/** Ids of SAEs, models, families and embedders: slugs, never quotes or backslashes. */
export const SLUG_RE = /^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,199}$/;

export function assertSlug(kind: string, value: string): string {
  if (!SLUG_RE.test(value)) {
    throw new AppError(
      ErrorCode.BAD_USER_INPUT,
      `${kind} id ${JSON.stringify(value)} is not valid: use letters, digits and . _ : / @ + - (at most 200 characters, starting with a letter or digit)`,
    );
  }
  return value;
}

function assertDim(dim: number, max: number): number {
  if (!Number.isInteger(dim) || dim < 1 || dim > max) throw new Error(`invalid vector dimension ${dim} (1..${max})`);
  return dim;
}

function indexName(prefix: string, key: string): string {
  return `${prefix}_${createHash("sha1").update(key).digest("hex").slice(0, 16)}`;
}

/** A partial HNSW index over the label embeddings of one embedder (fixed dimension). */
export function embeddingIndexStatement(embedder: string, dim: number): { name: string; sql: string } {
  assertSlug("embedder", embedder);
  assertDim(dim, 2000);
  const name = indexName("explanation_embedding_hnsw", embedder);
  const sql =
    `CREATE INDEX IF NOT EXISTS "${name}" ON "explanation_embedding" USING hnsw ((embedding::vector(${dim})) vector_cosine_ops) ` +
    `WHERE embedder = '${embedder}'`;
  return { name, sql };
}

export function dropEmbeddingIndexStatement(embedder: string, dim: number): { name: string; sql: string } {
  const { name } = embeddingIndexStatement(embedder, dim);
  return { name, sql: `DROP INDEX IF EXISTS "${name}"` };
}

/**
 * The SQL type `vector(<dim>)`, for queries that must repeat the expression an embedding
 * index was built on (`embedding::vector(<dim>)`) for the planner to use it.
 */
export function vectorTypeSql(dim: number): Prisma.Sql {
  return Prisma.raw(`vector(${assertDim(dim, 2000)})`);
}

export async function runDdl(db: Database, stmt: { sql: string }): Promise<void> {
  await db.prisma.$executeRaw(Prisma.raw(stmt.sql));
}
