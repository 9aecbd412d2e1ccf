// Label and query embeddings from the configured OpenAI-compatible endpoint, through
// the auto-interp LLM client (the only importer of `openai`).
import { normalize } from "../../db/vector.ts";
import { type Embedder, openaiEmbedderId } from "./embedder.ts";

/** What this needs of the auto-interp LLM client (src/modules/autointerp/llm-client.ts). */
export interface EmbeddingsClient {
  embed(model: string, inputs: string[]): Promise<{ vectors: number[][] }>;
}

/** Inputs per request: well under the endpoints' limits (OpenAI allows 2,048). */
const BATCH = 256;

export class OpenAiEmbedder implements Embedder {
  readonly id: string;

  constructor(
    private readonly llm: EmbeddingsClient,
    readonly model: string,
  ) {
    this.id = openaiEmbedderId(model);
  }

  async embed(texts: readonly string[]): Promise<(Float32Array | null)[]> {
    const out: (Float32Array | null)[] = [];
    for (let i = 0; i < texts.length; i += BATCH) {
      const batch = texts.slice(i, i + BATCH);
      // Endpoints reject empty inputs; an empty text has no meaning to embed anyway.
      const nonEmpty = batch.map((t, j) => [t.trim(), j] as const).filter(([t]) => t.length > 0);
      const res = nonEmpty.length ? await this.llm.embed(this.model, nonEmpty.map(([t]) => t)) : { vectors: [] };
      const vecs: (Float32Array | null)[] = batch.map(() => null);
      nonEmpty.forEach(([, j], n) => {
        vecs[j] = normalize(res.vectors[n]);
      });
      out.push(...vecs);
    }
    return out;
  }
}
