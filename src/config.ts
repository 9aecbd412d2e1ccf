// Reads the environment once into a frozen, validated config. Every problem is
// reported at once. A disabled integration (no LLM endpoint) is null, never "".
import { resolve } from "node:path";
import { z } from "zod";
import { AppError, ErrorCode } from "./errors.ts";

const emptyToUndefined = (v: unknown) => (typeof v === "string" && v.trim() === "" ? undefined : v);
const str = () => z.preprocess(emptyToUndefined, z.string().optional());
const int = (def: number, min = 0) => z.preprocess(emptyToUndefined, z.coerce.number().int().min(min).default(def));
const num = (def: number, min = 0) => z.preprocess(emptyToUndefined, z.coerce.number().min(min).default(def));
const bool = (def: boolean) =>
  z.preprocess(
    (v) => (typeof v === "string" ? (v.trim() === "" ? undefined : /^(1|true|yes|on)$/i.test(v.trim())) : v),
    z.boolean().default(def),
  );
const list = () =>
  z.preprocess(
    (v) => (typeof v === "string" ? v.split(",").map((s) => s.trim()).filter(Boolean) : v),
    z.array(z.string()).default([]),
  );

const EnvSchema = z.object({
  DATABASE_URL: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, "must start with postgresql:// (or postgres://)")
      .optional(),
  ),
  // Hot standbys for read-only GraphQL operations (src/db/replicas.ts), comma-separated.
  DATABASE_READ_URLS: z.preprocess(
    (v) => (typeof v === "string" ? v.split(",").map((s) => s.trim()).filter(Boolean) : v),
    z.array(z.string().regex(/^postgres(ql)?:\/\//, "every URL must start with postgresql:// (or postgres://)")).default([]),
  ),
  MONOSCOPE_REPLICA_MAX_LAG_MS: int(5000, 0),
  MONOSCOPE_REPLICA_CHECK_MS: int(1000, 50),
  // "off" behind a pooler in transaction mode that cannot keep named prepared statements (PgBouncer < 1.21).
  MONOSCOPE_PREPARED_STATEMENTS: bool(true),
  MONOSCOPE_MATRIX_CACHE_BYTES: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).optional()),
  MONOSCOPE_DATA_DIR: str(),
  MONOSCOPE_DB_POOL_SIZE: int(8, 1),
  MONOSCOPE_PORT: int(4000, 0),
  PORT: z.preprocess(emptyToUndefined, z.coerce.number().int().min(0).optional()),
  MONOSCOPE_HOST: z.preprocess(emptyToUndefined, z.string().default("127.0.0.1")),
  NODE_ENV: z.preprocess(emptyToUndefined, z.string().default("production")),
  MONOSCOPE_LOG_LEVEL: z.preprocess(emptyToUndefined, z.enum(["debug", "info", "warn", "error", "silent"]).default("info")),
  OPENAI_API_KEY: str(),
  OPENAI_BASE_URL: z.preprocess(emptyToUndefined, z.string().url("must be a URL such as http://localhost:11434/v1").optional()),
  MONOSCOPE_EXPLAINER_MODEL: z.preprocess(emptyToUndefined, z.string().default("gpt-4o-mini")),
  MONOSCOPE_SCORER_MODEL: z.preprocess(emptyToUndefined, z.string().default("gpt-4o-mini")),
  MONOSCOPE_EMBEDDING_MODEL: z.preprocess(emptyToUndefined, z.string().default("text-embedding-3-small")),
  MONOSCOPE_LLM_TIMEOUT_MS: int(60_000, 100),
  MONOSCOPE_LLM_CONCURRENCY: int(4, 1),
  MONOSCOPE_LLM_MAX_RETRIES: int(4, 0),
  MONOSCOPE_API_KEYS: list(),
  MONOSCOPE_READS_REQUIRE_KEY: bool(false),
  MONOSCOPE_CORS_ORIGINS: list(),
  MONOSCOPE_MAX_DEPTH: int(10, 1),
  MONOSCOPE_MAX_ALIASES: int(30, 1),
  // Roughly the number of values one request may resolve (src/graphql/cost.ts).
  MONOSCOPE_MAX_COST: int(50_000, 1),
  MONOSCOPE_MAX_K: int(1000, 1),
  MONOSCOPE_MAX_PAGE_SIZE: int(1000, 1),
  MONOSCOPE_RATE_LIMIT_PER_MINUTE: int(600, 0),
  MONOSCOPE_HTTP_CACHE_SECONDS: int(0, 0),
  // Slow clients: the whole request (headers and body) must arrive within the body timeout;
  // the answer must be sent within the request timeout (503 after it).
  MONOSCOPE_BODY_TIMEOUT_MS: int(10_000, 100),
  MONOSCOPE_REQUEST_TIMEOUT_MS: int(60_000, 100),
  MONOSCOPE_KEEP_ALIVE_TIMEOUT_MS: int(65_000, 100),
  // How long a deleted SAE's rows outlive the delete (requests that began before it read them to
  // the end); default: the request timeout plus 5 s.
  MONOSCOPE_DELETE_GRACE_MS: z.preprocess(emptyToUndefined, z.coerce.number().int().min(0).optional()),
  // With API keys configured, /metrics needs one too unless this is false.
  MONOSCOPE_METRICS_REQUIRE_KEY: bool(true),
  // Operation names that get their own metrics label; others are "other" (unless sent with a valid key).
  MONOSCOPE_METRICS_OPERATIONS: list(),
  MONOSCOPE_SPLIT_THRESHOLD: num(0.5, 0),
  MONOSCOPE_KERNEL: z.preprocess(emptyToUndefined, z.enum(["auto", "native", "js"]).default("auto")),
  /** "0" turns the native 4-bit scan off. */
  MONOSCOPE_NATIVE: str(),
  MONOSCOPE_TEXT_MAX_CHARS: int(8192, 1),
  MONOSCOPE_TEXT_MAX_TOKENS: int(512, 1),
  /** model=dir pairs, comma-separated: the same as one MONOSCOPE_MODEL_DIR_<MODEL_ID> per model. */
  MONOSCOPE_MODEL_DIRS: list(),
  // Largest image file an ingest stores (image activation examples); 8 MiB = DEFAULT_IMAGE_MAX_BYTES.
  MONOSCOPE_IMAGE_MAX_BYTES: int(8 << 20, 1),
});

const MODEL_DIR_PREFIX = "MONOSCOPE_MODEL_DIR_";

/** The env-var suffix of a model id: upper-cased, every character other than A-Z and 0-9 replaced by "_". */
export function modelEnvKey(modelId: string): string {
  return modelId.toUpperCase().replace(/[^A-Z0-9]/g, "_");
}

/** Local model directories by modelEnvKey: MONOSCOPE_MODEL_DIR_<KEY> and MONOSCOPE_MODEL_DIRS entries (the former win). */
function modelDirs(env: NodeJS.ProcessEnv, pairs: string[], issues: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0 || eq === pair.length - 1) issues.push(`  MONOSCOPE_MODEL_DIRS: ${JSON.stringify(pair)} is not model=dir`);
    else out[modelEnvKey(pair.slice(0, eq).trim())] = resolve(pair.slice(eq + 1).trim());
  }
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(MODEL_DIR_PREFIX) || value === undefined || value.trim() === "") continue;
    const key = name.slice(MODEL_DIR_PREFIX.length);
    if (!/^[A-Z0-9_]+$/.test(key)) issues.push(`  ${name}: the model id part must be A-Z, 0-9 and _ (the id upper-cased, other characters as _)`);
    else out[key] = resolve(value.trim());
  }
  return out;
}

export type Config = Readonly<{
  database: Readonly<
    | {
        kind: "postgres";
        url: string;
        poolSize: number;
        /** Named prepared statements on the raw-driver path (off behind PgBouncer < 1.21 in transaction mode). */
        preparedStatements: boolean;
        /** Hot standbys for read-only operations, and when one is too far behind to serve them. */
        replicas: Readonly<{ urls: readonly string[]; maxLagMs: number; checkMs: number }>;
      }
    | { kind: "pglite"; dataDir: string }
  >;
  dataDir: string;
  env: string;
  isDevelopment: boolean;
  logLevel: "debug" | "info" | "warn" | "error" | "silent";
  server: Readonly<{
    port: number;
    host: string;
    apiKeys: readonly string[];
    readsRequireKey: boolean;
    corsOrigins: readonly string[];
    maxDepth: number;
    maxAliases: number;
    maxCost: number;
    maxK: number;
    maxPageSize: number;
    rateLimitPerMinute: number;
    /** max-age of GET query responses (0: clients revalidate every time, using the ETag). */
    httpCacheSeconds: number;
    /** Time a client has to send a whole request, headers and body (slow-loris bound). */
    bodyTimeoutMs: number;
    /** Time the server has to answer a request before it answers 503 (the NDJSON export streams past it). */
    requestTimeoutMs: number;
    /** How long an idle keep-alive connection stays open. */
    keepAliveTimeoutMs: number;
    /** /metrics needs an API key when keys are configured (the default). */
    metricsRequireKey: boolean;
    /** Operation names with their own metrics label (an allow-list; junk names cannot push them out). */
    metricsOperations: readonly string[];
  }>;
  /** null when no OpenAI-compatible endpoint is configured. */
  llm: Readonly<{
    apiKey: string | null;
    baseURL: string | null;
    explainerModel: string;
    scorerModel: string;
    embeddingModel: string;
    timeoutMs: number;
    concurrency: number;
    maxRetries: number;
  }> | null;
  lineage: Readonly<{ splitThreshold: number }>;
  /** The matrix kernel ("auto": native, else JavaScript) and whether the native 4-bit scan may load. */
  kernel: Readonly<{ backend: "auto" | "native" | "js"; nativeScan: boolean }>;
  /** Text through a model (activateText, searchByText): request limits and local model directories. */
  text: Readonly<{
    maxChars: number;
    maxTokens: number;
    /** Absolute model directories by modelEnvKey(model id). */
    modelDirs: Readonly<Record<string, string>>;
  }>;
  /** Image activation examples: the largest image file an ingest accepts. */
  images: Readonly<{ maxBytes: number }>;
  /**
   * How long a deleted SAE's rows are kept after the delete (it is invisible to new requests at
   * once), so a request that resolved it before reads all of it: longer than a request may run.
   */
  deleteGraceMs: number;
  /** Byte budget of the decoder-matrix cache; null: the default sized from the machine's memory (matrix-cache.ts). */
  matrixCacheBytes: number | null;
}>;

export interface ConfigOverrides {
  dataDir?: string;
  databaseUrl?: string;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: ConfigOverrides = {}): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new AppError(ErrorCode.BAD_USER_INPUT, `invalid configuration:\n${lines.join("\n")}`);
  }
  const e = parsed.data;
  const dirIssues: string[] = [];
  const dirs = modelDirs(env, e.MONOSCOPE_MODEL_DIRS, dirIssues);
  if (dirIssues.length) throw new AppError(ErrorCode.BAD_USER_INPUT, `invalid configuration:\n${dirIssues.join("\n")}`);
  const dataDir = resolve(overrides.dataDir ?? e.MONOSCOPE_DATA_DIR ?? ".monoscope");
  const databaseUrl = overrides.databaseUrl ?? e.DATABASE_URL;
  if (e.DATABASE_READ_URLS.length && !databaseUrl) {
    throw new AppError(
      ErrorCode.BAD_USER_INPUT,
      "invalid configuration:\n  DATABASE_READ_URLS: read replicas need a primary: set DATABASE_URL too (the embedded database has no replicas)",
    );
  }
  const llmEnabled = e.OPENAI_API_KEY !== undefined || e.OPENAI_BASE_URL !== undefined;
  const config: Config = {
    database: databaseUrl
      ? {
          kind: "postgres",
          url: databaseUrl,
          poolSize: e.MONOSCOPE_DB_POOL_SIZE,
          preparedStatements: e.MONOSCOPE_PREPARED_STATEMENTS,
          replicas: { urls: e.DATABASE_READ_URLS, maxLagMs: e.MONOSCOPE_REPLICA_MAX_LAG_MS, checkMs: e.MONOSCOPE_REPLICA_CHECK_MS },
        }
      : { kind: "pglite", dataDir: resolve(dataDir, "pglite") },
    dataDir,
    env: e.NODE_ENV,
    isDevelopment: e.NODE_ENV === "development",
    logLevel: e.MONOSCOPE_LOG_LEVEL,
    server: {
      port: e.PORT ?? e.MONOSCOPE_PORT,
      host: e.MONOSCOPE_HOST,
      apiKeys: e.MONOSCOPE_API_KEYS,
      readsRequireKey: e.MONOSCOPE_READS_REQUIRE_KEY,
      corsOrigins: e.MONOSCOPE_CORS_ORIGINS,
      maxDepth: e.MONOSCOPE_MAX_DEPTH,
      maxAliases: e.MONOSCOPE_MAX_ALIASES,
      maxCost: e.MONOSCOPE_MAX_COST,
      maxK: e.MONOSCOPE_MAX_K,
      maxPageSize: e.MONOSCOPE_MAX_PAGE_SIZE,
      rateLimitPerMinute: e.MONOSCOPE_RATE_LIMIT_PER_MINUTE,
      httpCacheSeconds: e.MONOSCOPE_HTTP_CACHE_SECONDS,
      bodyTimeoutMs: e.MONOSCOPE_BODY_TIMEOUT_MS,
      requestTimeoutMs: e.MONOSCOPE_REQUEST_TIMEOUT_MS,
      keepAliveTimeoutMs: e.MONOSCOPE_KEEP_ALIVE_TIMEOUT_MS,
      metricsRequireKey: e.MONOSCOPE_METRICS_REQUIRE_KEY,
      metricsOperations: e.MONOSCOPE_METRICS_OPERATIONS,
    },
    llm: llmEnabled
      ? {
          apiKey: e.OPENAI_API_KEY ?? null,
          baseURL: e.OPENAI_BASE_URL ?? null,
          explainerModel: e.MONOSCOPE_EXPLAINER_MODEL,
          scorerModel: e.MONOSCOPE_SCORER_MODEL,
          embeddingModel: e.MONOSCOPE_EMBEDDING_MODEL,
          timeoutMs: e.MONOSCOPE_LLM_TIMEOUT_MS,
          concurrency: e.MONOSCOPE_LLM_CONCURRENCY,
          maxRetries: e.MONOSCOPE_LLM_MAX_RETRIES,
        }
      : null,
    lineage: { splitThreshold: e.MONOSCOPE_SPLIT_THRESHOLD },
    kernel: { backend: e.MONOSCOPE_KERNEL, nativeScan: e.MONOSCOPE_NATIVE !== "0" },
    text: { maxChars: e.MONOSCOPE_TEXT_MAX_CHARS, maxTokens: e.MONOSCOPE_TEXT_MAX_TOKENS, modelDirs: dirs },
    images: { maxBytes: e.MONOSCOPE_IMAGE_MAX_BYTES },
    deleteGraceMs: e.MONOSCOPE_DELETE_GRACE_MS ?? e.MONOSCOPE_REQUEST_TIMEOUT_MS + 5000,
    matrixCacheBytes: e.MONOSCOPE_MATRIX_CACHE_BYTES ?? null,
  };
  return deepFreeze(config);
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === "object") {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
