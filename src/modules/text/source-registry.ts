// Which activation source serves an SAE. Each factory looks at the SAE's hook (model and hook
// names, width) and the model directory configured for its model, and returns a source or null
// (not its model). The first factory that answers wins, in the order of SOURCE_FACTORIES: a
// model directory the user configured comes before the built-in demo table. Sources are built
// once per model and directory and kept (an ONNX session is expensive), until close().
import { badInput } from "../../errors.ts";
import type { ActivationSource, HookRef } from "./activation-source.ts";
import { GLOVE_MODEL_NAME, GloveSource } from "./glove-source.ts";
import type { TextLimits } from "./text-limits.ts";

export interface SourceRequest {
  hook: HookRef;
  /** The directory configured for the hook's model (MONOSCOPE_MODEL_DIR_<MODEL_ID>, MONOSCOPE_MODEL_DIRS), or null. */
  modelDir: string | null;
  limits: TextLimits;
}

export type SourceFactory = (req: SourceRequest) => ActivationSource | null;

/** Every kind of source, by name, in the order they are asked. */
export const SOURCE_FACTORIES: Readonly<Record<string, SourceFactory>> = {
  // onnx: a language model exported to ONNX in the configured directory (src/modules/text/onnx-source.ts).
  "glove-wordnet": (r) => (r.hook.modelName === GLOVE_MODEL_NAME ? new GloveSource({ limits: r.limits }) : null),
};

export interface RegistryOptions {
  limits: TextLimits;
  /** Model directories by modelEnvKey(model id) (config.text.modelDirs). */
  modelDirs: Readonly<Record<string, string>>;
  /** The env-var suffix of a model id (config.ts modelEnvKey). */
  modelEnvKey: (modelId: string) => string;
  factories?: Readonly<Record<string, SourceFactory>>;
}

export class SourceRegistry {
  private readonly built = new Map<string, ActivationSource>();
  private readonly factories: Readonly<Record<string, SourceFactory>>;

  constructor(private readonly opts: RegistryOptions) {
    this.factories = opts.factories ?? SOURCE_FACTORIES;
  }

  get limits(): TextLimits {
    return this.opts.limits;
  }

  /** The source for an SAE's hook; BAD_USER_INPUT naming the SAE when none is configured. */
  sourceFor(hook: HookRef, saeId: string): ActivationSource {
    const envKey = this.opts.modelEnvKey(hook.modelName);
    const modelDir = this.opts.modelDirs[envKey] ?? null;
    for (const [name, factory] of Object.entries(this.factories)) {
      const key = `${name}\u0000${hook.modelName}\u0000${modelDir ?? ""}`;
      let source = this.built.get(key) ?? null;
      if (!source) {
        source = factory({ hook, modelDir, limits: this.opts.limits });
        if (!source) continue;
        this.built.set(key, source);
      }
      if (source.supports(hook)) return source;
    }
    const what = `SAE ${JSON.stringify(saeId)} has no activation source: nothing runs model ${JSON.stringify(hook.modelName)} at hook ${JSON.stringify(hook.hookName)}`;
    throw badInput(
      modelDir
        ? `${what} (MONOSCOPE_MODEL_DIR_${envKey} is ${modelDir}, and no source serves that hook from it)`
        : `${what}. Set MONOSCOPE_MODEL_DIR_${envKey} to a local directory with the model exported to ONNX (onnx/model.onnx, tokenizer.json, config.json)`,
      { saeId, modelId: hook.modelName },
    );
  }

  async close(): Promise<void> {
    const sources = [...this.built.values()];
    this.built.clear();
    for (const s of sources) await s.close?.();
  }
}
