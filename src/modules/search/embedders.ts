// Which embedder concept search uses: the offline one (SIF over the demo build's word-vector
// table, its fitted transform stored in the database so every process embeds alike) and the
// OpenAI-compatible endpoint's, when configured. A query uses the one asked for, else the
// endpoint's when labels were embedded with it, else the offline one.
import { z } from "zod";
import { AppError, badInput } from "../../errors.ts";
import { type Embedder, OFFLINE_EMBEDDER_ID, openaiEmbedderId } from "./embedder.ts";
import { SifEmbedder, SifModel, type SifParams } from "./embedder-glove.ts";
import { type EmbeddingsClient, OpenAiEmbedder } from "./embedder-openai.ts";
import type { LabelVectorsRepository } from "./label-vectors.repository.ts";
import { loadWordTable } from "./word-vectors.ts";

/** The offline embedder's transform as stored in search_embedder.params. */
const StoredSifParams = z.object({
  kind: z.literal("sif"),
  a: z.number(),
  dim: z.number().int(),
  component: z.array(z.number()),
  tableHash: z.string(),
}) satisfies z.ZodType<SifParams>;

export interface EmbeddersOptions {
  llm?: { client: EmbeddingsClient; embeddingModel: string } | null;
  wordVectorsDir?: string;
}

export class Embedders {
  private sifModel: SifModel | null = null;
  private cached: { key: string; embedder: SifEmbedder } | null = null;

  constructor(
    private readonly vectors: LabelVectorsRepository,
    private readonly options: EmbeddersOptions,
  ) {}

  /** Whether the word-vector table for the offline embedder is present. */
  offlineAvailable(): boolean {
    try {
      this.sif();
      return true;
    } catch (e) {
      if (e instanceof AppError) return false;
      throw e;
    }
  }

  /** The offline embedder's word model (loaded once); a clear error when its table is missing. */
  sif(): SifModel {
    this.sifModel ??= new SifModel(loadWordTable(this.options.wordVectorsDir));
    return this.sifModel;
  }

  endpoint(): OpenAiEmbedder | null {
    const llm = this.options.llm;
    return llm ? new OpenAiEmbedder(llm.client, llm.embeddingModel) : null;
  }

  /** The offline embedder with its stored transform; fits and stores one when asked to create it. */
  async offline(create: boolean): Promise<SifEmbedder> {
    let row = await this.vectors.findEmbedder(OFFLINE_EMBEDDER_ID);
    if (!row) {
      if (!create) {
        throw badInput(`no labels have been embedded with ${OFFLINE_EMBEDDER_ID} yet: run \`monoscope search --reindex\` (or \`monoscope demo\`)`);
      }
      const model = this.sif();
      const component = model.fitComponent();
      row = await this.vectors.saveEmbedder({ id: OFFLINE_EMBEDDER_ID, kind: "sif", dim: model.table.dim, params: model.params(component) });
    }
    const cacheKey = JSON.stringify(row.params);
    if (this.cached?.key !== cacheKey) {
      this.cached = { key: cacheKey, embedder: new SifEmbedder(OFFLINE_EMBEDDER_ID, this.sif(), StoredSifParams.parse(row.params)) };
    }
    return this.cached.embedder;
  }

  /** Forgets the cached offline transform (after it was dropped for a refit). */
  forgetOffline(): void {
    this.cached = null;
  }

  /** The embedder for a query: the one asked for, else the endpoint's if its vectors exist, else the offline one. */
  async forQuery(requested: string | null): Promise<Embedder> {
    const endpoint = this.endpoint();
    if (requested) {
      if (requested === OFFLINE_EMBEDDER_ID) return this.offline(false);
      if (endpoint && requested === endpoint.id) return endpoint;
      throw badInput(
        `unknown embedder ${JSON.stringify(requested)}: use ${OFFLINE_EMBEDDER_ID}` +
          (endpoint ? ` or ${endpoint.id}` : ` (or configure an endpoint for ${openaiEmbedderId("<model>")})`),
      );
    }
    if (endpoint && (await this.vectors.hasEmbeddings(endpoint.id))) return endpoint;
    return this.offline(false);
  }
}
