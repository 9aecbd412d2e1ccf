// The intermediate representation every importer produces and IngestService writes.
// Importers parse a format into these shapes; they never touch the database.

export type Dtype = "float32" | "float16" | "bfloat16" | string;

/** Where an SAE came from, kept in sae.source (jsonb) for provenance. */
export interface ArtifactSource {
  format: "saelens" | "neuronpedia" | "saedashboard" | "native" | string;
  /** The file or directory given on the command line. */
  path: string;
  [key: string]: unknown;
}

export interface SaeArtifact {
  model: { id: string; name?: string; /** defaults to sae.dIn when the model is created */ dModel?: number };
  family?: { id: string; name?: string } | null;
  sae: {
    id: string;
    name?: string;
    hookName?: string | null;
    layer?: number | null;
    /** standard | topk | jumprelu | gated | ...; null: the source never stated it. */
    architecture: string | null;
    dIn: number;
    dSae: number;
    dtype?: string | null;
    k?: number | null;
    /** Defaults to true when omitted; null: the source never stated it. */
    applyBDecToInput?: boolean | null;
    bDec?: Float32Array | number[] | null;
    neuronpediaId?: string | null;
    /** The parsed cfg.json or export metadata, stored as sae.config. */
    config?: Record<string, unknown>;
  };
  source: ArtifactSource;
  /** Fingerprint of the input files; the same hash again is a no-op unless replace. */
  contentHash: string;
}

/** Dashboard data from Neuronpedia/SAEDashboard, stored in feature_dashboard (jsonb). */
export interface FeatureDashboard {
  /** [{token, value}], largest first. */
  posLogits?: { token: string; value: number }[] | null;
  negLogits?: { token: string; value: number }[] | null;
  /** {values, heights}: heights[i] at position values[i]. */
  freqHistogram?: { values: number[]; heights: number[] } | null;
  logitsHistogram?: { values: number[]; heights: number[] } | null;
  correlatedNeurons?: { indices: number[]; pearson: number[]; l1: number[] } | null;
  correlatedFeatures?: { indices: number[]; pearson: number[]; l1: number[] } | null;
  neuronAlignment?: { indices: number[]; values: number[]; l1: number[] } | null;
  extra?: Record<string, unknown> | null;
}

/**
 * One feature. Every field but index is optional: null/undefined means "unknown"
 * (and, when merging into an existing SAE, "keep what is stored").
 */
export interface FeatureRow {
  index: number;
  /** The raw decoder row (length dIn); stored unit-normalised as halfvec + decoder_norm. */
  decoder?: Float32Array | number[] | null;
  /** When set, decoder is divided by this instead of its own norm (exact round trips of exports). */
  decoderNorm?: number | null;
  /** The encoder column W_enc[:, index] (length dIn), stored as vector. */
  encoder?: Float32Array | number[] | null;
  bEnc?: number | null;
  threshold?: number | null;
  density?: number | null;
  maxActivation?: number | null;
  /** Neuron whose basis direction has the largest |cosine| with the decoder; computed from the decoder when absent. */
  neuronIndex?: number | null;
  neuronCosine?: number | null;
  /** Neuron whose activations correlate best (Pearson) with the feature's. */
  neuronCorrIndex?: number | null;
  neuronCorrPearson?: number | null;
  dashboard?: FeatureDashboard | null;
  /** For error messages: the file this row came from. */
  file?: string;
}

export type ActivationKind = "top" | "quantile";

/** One activation example. Ordinals are assigned per feature in order of arrival. */
export interface ActivationRow {
  index: number;
  /** Readable (decoded) token strings. */
  tokens: string[];
  values: number[];
  kind?: ActivationKind;
  binMin?: number | null;
  binMax?: number | null;
  source?: string | null;
  /** The decoded context; defaults to tokens.join(""). */
  text?: string;
  /** The token strings as the source wrote them, when they differ from tokens (byte-level BPE). */
  rawTokens?: string[] | null;
  /** Source fields without a column, under their Neuronpedia names (binContains, dfaValues, ...). */
  sourceFields?: Record<string, unknown> | null;
  /** An image example: tokens are [] and values holds one activation per patch (row-major). */
  image?: ActivationImage | null;
  file?: string;
}

/** The image an activation example shows: stored bytes (sha256, given to IngestSink.images) or an external url. */
export interface ActivationImage {
  sha256: string | null;
  url: string | null;
  width: number;
  height: number;
  patchRows: number;
  patchCols: number;
}

/** An image file's bytes, content-addressed, for IngestSink.images. */
export interface ImageBytes {
  sha256: string;
  contentType: string;
  width: number;
  height: number;
  bytes: Buffer;
}

export interface ExplanationRow {
  index: number;
  text: string;
  /** Defaults to "imported". */
  method?: string;
  explainerModel?: string | null;
  promptVersion?: string | null;
  file?: string;
}

/** What an importer writes to: rows go out in batches, in any order. */
export interface IngestSink {
  readonly saeId: string;
  readonly dIn: number;
  readonly dSae: number;
  features(rows: readonly FeatureRow[]): Promise<void>;
  activations(rows: readonly ActivationRow[]): Promise<void>;
  explanations(rows: readonly ExplanationRow[]): Promise<void>;
  /** Features [first, first + count) pre-encoded as COPY tuples (bulk/feature-tuple.ts), none written before. */
  featureTuples?(tuples: Buffer, first: number, count: number, decoders: number): Promise<void>;
  /** Activation rows pre-encoded by bulk/activation-tuple.ts (ordinal placeholders): tuple k starts at starts[k], feature indices[k]. */
  activationTuples?(tuples: Buffer, indices: Int32Array, starts: Int32Array, images?: readonly TupleImage[]): Promise<void>;
  /** Image bytes that image examples refer to by sha256 (before or after those examples). */
  images?(rows: readonly ImageBytes[]): Promise<void>;
}

/** The image of pre-encoded activation tuple k (activationTuples). */
export interface TupleImage {
  k: number;
  image: ActivationImage;
}

export interface IngestSummary {
  saeId: string;
  /** created: new SAE; replaced: --replace; merged: rows added to an existing SAE; skipped: same content already there. */
  outcome: "created" | "replaced" | "merged" | "skipped";
  features: number;
  activations: number;
  explanations: number;
  seconds: number;
  rowsPerSecond: number;
}
