// What concept search needs from an embedder. Every stored vector carries the id of
// the embedder that made it, and a query is only ever compared with vectors of the
// same id: cosines between different embedders' spaces mean nothing.

export interface Embedder {
  /** Stored in explanation_embedding.embedder, e.g. "glove-wordnet/v1", "openai:text-embedding-3-small". */
  readonly id: string;
  /** null where a text has nothing this embedder can represent (e.g. no known word). */
  embed(texts: readonly string[]): Promise<(Float32Array | null)[]>;
}

export const OFFLINE_EMBEDDER_ID = "glove-wordnet/v1";

export const openaiEmbedderId = (model: string) => `openai:${model}`;
