// Concept search's SQL, in two parts: search documents (full text, trigrams, snippets) and
// label vectors (per embedder). One object so the composition root passes one repository.
import type { Database } from "../../db/database.ts";
import { LabelVectorsRepository } from "./label-vectors.repository.ts";
import { SearchDocumentsRepository } from "./search-documents.repository.ts";

export type { EmbedderRow, SemanticHit } from "./label-vectors.repository.ts";
export type { LexicalHit, LexicalParams, SearchScope } from "./search-documents.repository.ts";

export class SearchRepository {
  readonly documents: SearchDocumentsRepository;
  readonly vectors: LabelVectorsRepository;

  constructor(db: Database) {
    this.documents = new SearchDocumentsRepository(db);
    this.vectors = new LabelVectorsRepository(db);
  }
}
