// The text module: text through a model (an activation source) and an SAE's stored encoder.
// Which source serves which SAE is the registry's business (source-registry.ts: a factory map;
// add a kind of source there). Others reach the module through TextService.
import type { Database } from "../../db/database.ts";
import type { EncodeService } from "../encode/index.ts";
import { type SourceFactory, SourceRegistry } from "./source-registry.ts";
import { TextRepository } from "./text.repository.ts";
import { TextService } from "./text.service.ts";

export type { ActivationSource, HookRef, TokenActivations } from "./activation-source.ts";
export { GLOVE_HOOK_NAME, GLOVE_MODEL_NAME, GLOVE_SOURCE_NAME, GloveSource } from "./glove-source.ts";
export { SOURCE_FACTORIES, SourceRegistry, type SourceFactory, type SourceRequest } from "./source-registry.ts";
export { DEFAULT_TEXT_LIMITS, type TextLimits } from "./text-limits.ts";
export { textResolvers } from "./text.resolvers.ts";
export { TextService } from "./text.service.ts";

export interface TextModuleOptions {
  maxK: number;
  text: { maxChars: number; maxTokens: number; modelDirs: Readonly<Record<string, string>> };
  modelEnvKey: (modelId: string) => string;
  /** Replaces SOURCE_FACTORIES (tests). */
  factories?: Readonly<Record<string, SourceFactory>>;
}

export function buildTextModule(db: Database, deps: { encode: EncodeService }, opts: TextModuleOptions) {
  const registry = new SourceRegistry({
    limits: { maxChars: opts.text.maxChars, maxTokens: opts.text.maxTokens },
    modelDirs: opts.text.modelDirs,
    modelEnvKey: opts.modelEnvKey,
    factories: opts.factories,
  });
  const text = new TextService(new TextRepository(db), deps.encode, registry, { maxK: opts.maxK });
  return { text, sources: registry };
}
