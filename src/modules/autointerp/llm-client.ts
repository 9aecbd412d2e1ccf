// The one place that talks to an OpenAI-compatible endpoint (OpenAI, vLLM, Ollama,
// LM Studio, llama.cpp). Uses only Chat Completions and Embeddings, which all of
// them speak. Retries are ours (the SDK's are off) so the policy is visible and
// testable: backoff with jitter on 429 / 5xx / timeouts / malformed bodies,
// honouring Retry-After. Error text never carries the API key. The SDK (115 modules) loads on
// the first call, not at start-up: most verbs never talk to an LLM.
import type OpenAI from "openai";
import type { Config } from "../../config.ts";
import { AppError, ErrorCode, redactSecrets } from "../../errors.ts";
import { createLimiter, type Limiter } from "./limiter.ts";
import { parseRetryAfter, type RetryPolicy, retryDelayMs } from "./retry.ts";
import type { Usage } from "./pricing.ts";

export type LlmConfig = NonNullable<Config["llm"]>;

export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  maxTokens?: number;
  temperature?: number;
  /** Ask for per-token logprobs (simulation scoring); servers may ignore it. */
  topLogprobs?: number;
}

export interface TokenLogprob {
  token: string;
  logprob: number;
  top: { token: string; logprob: number }[];
}

export interface ChatResult {
  text: string;
  usage: Usage;
  /** null when the server returned none. */
  logprobs: TokenLogprob[] | null;
  /** How many HTTP attempts it took (1 = no retry). */
  attempts: number;
}

export interface EmbedResult {
  vectors: number[][];
  dim: number;
  usage: Usage;
}

/** An OpenAI Batch API batch (half price, results within 24 hours). */
export interface BatchInfo {
  id: string;
  /** validating | in_progress | finalizing | completed | failed | expired | cancelling | cancelled */
  status: string;
  outputFileId: string | null;
  errorFileId: string | null;
  total: number;
  completed: number;
  failed: number;
}

export interface LlmClient {
  readonly config: LlmConfig;
  chat(req: ChatRequest, opts?: { signal?: AbortSignal }): Promise<ChatResult>;
  embed(model: string, inputs: string[], opts?: { dimensions?: number; signal?: AbortSignal }): Promise<EmbedResult>;
  /** Uploads a JSONL file of Chat Completions requests and starts a batch over it. */
  submitBatch(jsonl: string): Promise<BatchInfo>;
  batchStatus(id: string): Promise<BatchInfo>;
  /** A file's text (a batch's output or error file). */
  fileText(fileId: string): Promise<string>;
}

/** An upstream failure after retries. `fatal`: every further call would fail the same way (bad key, unknown model). */
export class LlmError extends AppError {
  readonly status: number | null;
  readonly fatal: boolean;
  constructor(message: string, opts: { status: number | null; fatal: boolean; cause?: unknown }) {
    super(ErrorCode.UPSTREAM_UNAVAILABLE, message, { cause: opts.cause });
    this.name = "LlmError";
    this.status = opts.status;
    this.fatal = opts.fatal;
  }
}

export { parseRetryAfter, retryDelayMs, type RetryPolicy } from "./retry.ts";

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * A signal for one request that follows the caller's. The SDK adds an abort listener
 * to the signal of every request and never removes it; handing it a fresh signal per
 * request keeps the caller's signal from collecting one per call.
 */
async function withLinkedSignal<T>(signal: AbortSignal | undefined, fn: (s: AbortSignal | undefined) => Promise<T>): Promise<T> {
  if (!signal) return fn(undefined);
  const c = new AbortController();
  const forward = () => c.abort(signal.reason);
  if (signal.aborted) c.abort(signal.reason);
  else signal.addEventListener("abort", forward, { once: true });
  try {
    return await fn(c.signal);
  } finally {
    signal.removeEventListener("abort", forward);
  }
}

export interface LlmClientOptions {
  /** Injected for tests: records the delays instead of waiting. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  retry?: Partial<RetryPolicy>;
  onRetry?: (info: { attempt: number; delayMs: number; reason: string }) => void;
}

interface Classified {
  retryable: boolean;
  fatal: boolean;
  status: number | null;
  retryAfterMs: number | null;
  reason: string;
}

type Sdk = typeof import("openai");

/** sdk: the loaded SDK module, or null when the call failed before it loaded (then e is none of its errors). */
function classify(e: unknown, sdk: Sdk | null): Classified {
  const OpenAI = sdk?.default;
  if (!OpenAI) return classifyOther(e);
  if (e instanceof OpenAI.APIConnectionTimeoutError) return { retryable: true, fatal: false, status: null, retryAfterMs: null, reason: "timeout" };
  if (e instanceof OpenAI.APIUserAbortError) return { retryable: false, fatal: false, status: null, retryAfterMs: null, reason: "aborted" };
  if (e instanceof OpenAI.APIConnectionError) return { retryable: true, fatal: false, status: null, retryAfterMs: null, reason: "connection failed" };
  if (e instanceof OpenAI.APIError) {
    const s = e.status ?? null;
    const retryAfterMs = parseRetryAfter(e.headers as Headers | undefined);
    if (s === 408 || s === 409 || s === 429 || (s !== null && s >= 500))
      return { retryable: true, fatal: false, status: s, retryAfterMs, reason: `HTTP ${s}` };
    // A bad key, a forbidden or unknown model: no further call can succeed.
    const fatal = s === 401 || s === 403 || s === 404;
    return { retryable: false, fatal, status: s, retryAfterMs: null, reason: `HTTP ${s}` };
  }
  return classifyOther(e);
}

function classifyOther(e: unknown): Classified {
  if (e instanceof MalformedResponse || e instanceof SyntaxError || (e instanceof TypeError && /terminated|fetch failed|body/i.test(e.message)))
    return { retryable: true, fatal: false, status: null, retryAfterMs: null, reason: "malformed response body" };
  return { retryable: false, fatal: false, status: null, retryAfterMs: null, reason: "unexpected error" };
}

class MalformedResponse extends Error {}

export function createLlmClient(config: LlmConfig, options: LlmClientOptions = {}): LlmClient {
  let sdk: Sdk | null = null;
  let client: Promise<OpenAI> | null = null;
  const openaiClient = () =>
    (client ??= import("openai").then((m) => {
      sdk = m;
      return new m.default({
        // Local servers need no key, but the SDK insists on one.
        apiKey: config.apiKey ?? "no-key",
        baseURL: config.baseURL ?? undefined,
        timeout: config.timeoutMs,
        maxRetries: 0,
        logLevel: "off",
      });
    }));
  const policy: RetryPolicy = {
    maxRetries: config.maxRetries,
    baseDelayMs: 500,
    maxDelayMs: 20_000,
    maxRetryAfterMs: 120_000,
    ...options.retry,
  };
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;
  const limiter: Limiter = createLimiter(config.concurrency);
  const scrub = (text: string) => {
    let t = redactSecrets(text);
    if (config.apiKey && config.apiKey.length >= 4) t = t.split(config.apiKey).join("***");
    return t;
  };

  async function withRetries<T>(what: string, call: () => Promise<T>, signal?: AbortSignal): Promise<{ value: T; attempts: number }> {
    for (let attempt = 0; ; attempt++) {
      if (signal?.aborted) throw new LlmError(`${what}: aborted`, { status: null, fatal: false });
      try {
        return { value: await limiter.run(call), attempts: attempt + 1 };
      } catch (e) {
        const c = classify(e, sdk);
        const detail = scrub((e as Error)?.message ?? String(e)).slice(0, 300);
        if (!c.retryable || attempt >= policy.maxRetries) {
          const tries = attempt + 1;
          throw new LlmError(`${what} failed after ${tries} attempt${tries === 1 ? "" : "s"}: ${c.reason}: ${detail}`, {
            status: c.status,
            fatal: c.fatal,
          });
        }
        const delayMs = retryDelayMs(attempt, c.retryAfterMs, policy, random);
        options.onRetry?.({ attempt: attempt + 1, delayMs, reason: c.reason });
        await sleep(delayMs);
      }
    }
  }

  const batchInfo = (b: unknown): BatchInfo => {
    if (!isObj(b) || typeof b.id !== "string" || typeof b.status !== "string") throw new MalformedResponse("response is not a batch");
    const counts = isObj(b.request_counts) ? b.request_counts : {};
    const n = (v: unknown) => (typeof v === "number" ? v : 0);
    return {
      id: b.id,
      status: b.status,
      outputFileId: typeof b.output_file_id === "string" ? b.output_file_id : null,
      errorFileId: typeof b.error_file_id === "string" ? b.error_file_id : null,
      total: n(counts.total),
      completed: n(counts.completed),
      failed: n(counts.failed),
    };
  };

  return {
    config,
    async submitBatch(jsonl) {
      const { value } = await withRetries("batch submission", async () => {
        const openai = await openaiClient();
        const file = await openai.files.create({ file: await sdk!.toFile(Buffer.from(jsonl, "utf8"), "monoscope-batch.jsonl"), purpose: "batch" });
        return batchInfo(await openai.batches.create({ input_file_id: file.id, endpoint: "/v1/chat/completions", completion_window: "24h" }));
      });
      return value;
    },
    async batchStatus(id) {
      return (await withRetries(`batch ${id}`, async () => batchInfo(await (await openaiClient()).batches.retrieve(id)))).value;
    },
    async fileText(fileId) {
      return (await withRetries(`file ${fileId}`, async () => (await (await openaiClient()).files.content(fileId)).text())).value;
    },
    async chat(req, opts = {}) {
      const body = {
        model: req.model,
        messages: req.messages,
        ...(req.maxTokens !== undefined ? { max_tokens: req.maxTokens } : {}),
        temperature: req.temperature ?? 0,
        ...(req.topLogprobs ? { logprobs: true, top_logprobs: req.topLogprobs } : {}),
      };
      const { value, attempts } = await withRetries(
        `chat completion (${req.model})`,
        () => withLinkedSignal(opts.signal, async (signal) => checkChat((await (await openaiClient()).chat.completions.create(body, { signal })) as unknown)),
        opts.signal,
      );
      return { ...value, attempts };
    },
    async embed(model, inputs, opts = {}) {
      const body = {
        model,
        input: inputs,
        // float, not the SDK's base64 default: not every compatible server speaks base64.
        encoding_format: "float" as const,
        ...(opts.dimensions ? { dimensions: opts.dimensions } : {}),
      };
      const { value } = await withRetries(
        `embeddings (${model})`,
        () => withLinkedSignal(opts.signal, async (signal) => checkEmbeddings((await (await openaiClient()).embeddings.create(body, { signal })) as unknown, inputs.length)),
        opts.signal,
      );
      return value;
    },
  };
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

function usageOf(res: Obj): Usage {
  const u = isObj(res.usage) ? res.usage : {};
  const n = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : 0);
  return { inputTokens: n(u.prompt_tokens), outputTokens: n(u.completion_tokens) };
}

/** A chat completion body (from a response or a batch output line) as text, usage and logprobs. */
export function chatResultFromBody(body: unknown): Omit<ChatResult, "attempts"> | null {
  try {
    return checkChat(body);
  } catch (e) {
    if (e instanceof MalformedResponse) return null;
    throw e;
  }
}

/** The SDK returns a string for a non-JSON body; anything without a message is malformed. */
function checkChat(res: unknown): Omit<ChatResult, "attempts"> {
  if (!isObj(res) || !Array.isArray(res.choices) || !isObj(res.choices[0]) || !isObj(res.choices[0].message))
    throw new MalformedResponse("response is not a chat completion");
  const choice = res.choices[0] as Obj & { message: Obj };
  const content = choice.message.content;
  const text = typeof content === "string" ? content : "";
  let logprobs: TokenLogprob[] | null = null;
  const lp = isObj(choice.logprobs) ? choice.logprobs.content : null;
  if (Array.isArray(lp)) {
    logprobs = lp.filter(isObj).map((t) => ({
      token: String(t.token ?? ""),
      logprob: Number(t.logprob ?? 0),
      top: Array.isArray(t.top_logprobs)
        ? t.top_logprobs.filter(isObj).map((a) => ({ token: String(a.token ?? ""), logprob: Number(a.logprob ?? -Infinity) }))
        : [],
    }));
  }
  return { text, usage: usageOf(res), logprobs };
}

function checkEmbeddings(res: unknown, n: number): EmbedResult {
  if (!isObj(res) || !Array.isArray(res.data) || res.data.length !== n) throw new MalformedResponse("response is not an embedding list");
  const rows = [...(res.data as Obj[])].sort((a, b) => Number(a.index ?? 0) - Number(b.index ?? 0));
  const vectors = rows.map((r) => {
    if (!Array.isArray(r.embedding) || r.embedding.some((x) => typeof x !== "number")) throw new MalformedResponse("embedding is not a number list");
    return r.embedding as number[];
  });
  const dim = vectors[0]?.length ?? 0;
  if (vectors.some((v) => v.length !== dim) || dim === 0) throw new MalformedResponse("embeddings of unequal or zero length");
  return { vectors, dim, usage: usageOf(res) };
}
