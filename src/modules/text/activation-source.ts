// What runs a "model" over text: tokens, and per token the activation vector at an SAE's hook.
// Two implementations: the demo's GloVe lookup (glove-source.ts) and an ONNX language model
// in a local directory (onnx-source.ts). Encoding those vectors into features is the encode
// module's job (the same code as encodeVector), not the source's.

/** Where in the model the SAE reads: what SAELens's cfg.json calls model_name and hook_name. */
export interface HookRef {
  modelName: string;
  hookName: string;
  /** The SAE's d_in: a source must refuse a hook whose width differs. */
  dIn: number;
}

export interface TokenActivations {
  /** The tokens as the model sees them, decoded to display text (one entry per position). */
  tokens: string[];
  /** tokens.length x dIn, row-major, float32. A row of zeros means "no activation" (e.g. out of vocabulary). */
  vectors: Float32Array;
  dIn: number;
  /** Which tensor or table the vectors came from, said to the user (e.g. "/transformer/h.5/Add_1_output_0"). */
  tensor: string;
}

export interface ActivationSource {
  /** "glove-wordnet", "onnx:<dir>", …: shown in errors and progress output. */
  readonly name: string;
  /** Whether this source can produce activations for the hook (model and hook names match). */
  supports(hook: HookRef): boolean;
  /** Tokenizes text and returns each token's activation at the hook. Throws badInput for text over the limits. */
  activate(text: string, hook: HookRef): Promise<TokenActivations>;
  /** Several texts at once (one forward pass where the source can batch); same order as texts. */
  activateMany?(texts: readonly string[], hook: HookRef): Promise<TokenActivations[]>;
  /** Several hooks of the model in one forward pass (per batch of texts): result[text][hook]. */
  activateHooks?(texts: readonly string[], hooks: readonly HookRef[]): Promise<TokenActivations[][]>;
  /** Releases sessions and memory. */
  close?(): Promise<void>;
}
