// What a repository's bulk-load statements need from the dedicated bulk connection that
// ingest opens (src/ingest/bulk/bulk-connection.ts): plain statements and binary COPY into
// a table. The statements themselves live in the repository that owns the table.

/** One binary COPY ... FROM, as each backend spells it (fixed text, no parameters). */
export interface CopyStatement {
  /** The statement's tag, e.g. "feature" (for logs and captures). */
  readonly name: string;
  /** COPY ... FROM STDIN (pg-copy-streams). */
  readonly postgres: string;
  /** COPY ... FROM '/dev/blob' (PGlite reads the blob handed with the statement). */
  readonly pglite: string;
}

export interface BulkStatements {
  readonly backend: "postgres" | "pglite";
  /** A fixed statement with $n parameters; rows are unchecked (parse them, see rows.ts). */
  query(sql: string, params?: unknown[]): Promise<unknown[]>;
  /** Sends encoded tuples (no header) to the COPY, ending any other COPY first. The buffer is handed over: do not reuse it. */
  copy(statement: CopyStatement, tuples: Buffer): Promise<void>;
}

/** A COPY statement for both backends from one table and column list. */
export function copyStatement(name: string, table: string, columns: string): CopyStatement {
  return {
    name,
    postgres: `/* ingest_copy_${name} */ COPY ${table} ${columns} FROM STDIN (FORMAT binary)`,
    pglite: `/* ingest_copy_${name} */ COPY ${table} ${columns} FROM '/dev/blob' WITH (FORMAT binary)`,
  };
}
