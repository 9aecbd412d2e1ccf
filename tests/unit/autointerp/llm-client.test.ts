// The LLM client against the local fake OpenAI server: the real `openai` SDK on the
// wire, our retry policy (recorded, not slept), fault handling and secret hygiene.
import { getEventListeners } from "node:events";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createLlmClient, type LlmConfig, LlmError, parseRetryAfter, retryDelayMs } from "../../../src/modules/autointerp/llm-client.ts";
import { type FakeOpenAI, faultsInOrder, startFakeOpenAI } from "../../fixtures/fake-openai-server.ts";

let fake: FakeOpenAI;
beforeAll(async () => {
  fake = await startFakeOpenAI();
});
afterAll(async () => fake.close());
beforeEach(() => {
  fake.setFaults(null);
  fake.requests.length = 0;
});

const SECRET = "sk-test-abcdefghijklmnopqrstuvwxyz0123456789";
const config = (over: Partial<LlmConfig> = {}): LlmConfig => ({
  apiKey: SECRET,
  baseURL: fake.url,
  explainerModel: "gpt-4o-mini",
  scorerModel: "gpt-4o-mini",
  embeddingModel: "text-embedding-3-small",
  timeoutMs: 2_000,
  concurrency: 2,
  maxRetries: 3,
  ...over,
});

function client(over: Partial<LlmConfig> = {}) {
  const delays: number[] = [];
  const llm = createLlmClient(config(over), {
    sleep: async (ms) => {
      delays.push(ms);
    },
    random: () => 0.5,
  });
  return { llm, delays };
}

const ask = { model: "gpt-4o-mini", messages: [{ role: "system" as const, content: "Say hi" }, { role: "user" as const, content: "hello" }] };

describe("llm client", () => {
  it("returns text and token usage from a chat completion", async () => {
    const { llm } = client();
    const r = await llm.chat(ask);
    expect(r.text).toBe("Hello from the fake server.");
    expect(r.usage.inputTokens).toBeGreaterThan(0);
    expect(r.usage.outputTokens).toBeGreaterThan(0);
    expect(r.attempts).toBe(1);
    expect(r.logprobs).toBeNull();
    expect(fake.requests[0].authorization).toBe(`Bearer ${SECRET}`);
  });

  it("returns logprobs when asked and the server has them", async () => {
    const { llm } = client();
    const r = await llm.chat({ ...ask, topLogprobs: 3 });
    expect(r.logprobs?.map((t) => t.token).join("")).toBe(r.text);
  });

  it("honours Retry-After (seconds) and retry-after-ms on 429", async () => {
    fake.setFaults(faultsInOrder([{ kind: "status", status: 429, retryAfter: "2" }, { kind: "status", status: 429, retryAfterMs: 150 }]));
    const { llm, delays } = client();
    const r = await llm.chat(ask);
    expect(r.attempts).toBe(3);
    expect(delays).toEqual([2000, 150]);
  });

  it("backs off exponentially with jitter on 5xx", async () => {
    fake.setFaults(faultsInOrder([{ kind: "status", status: 500 }, { kind: "status", status: 502 }, { kind: "status", status: 503 }]));
    const { llm, delays } = client();
    const r = await llm.chat(ask);
    expect(r.attempts).toBe(4);
    // random() = 0.5: half fixed + a quarter of the ceiling: 500, 1000, 2000 ceilings.
    expect(delays).toEqual([375, 750, 1500]);
  });

  it("retries timeouts, truncated bodies, non-JSON and broken JSON", async () => {
    fake.setFaults(faultsInOrder([{ kind: "timeout" }, { kind: "truncated" }, { kind: "non-json" }, { kind: "bad-json" }]));
    const { llm, delays } = client({ timeoutMs: 300, maxRetries: 4 });
    const r = await llm.chat(ask);
    expect(r.text).toBe("Hello from the fake server.");
    expect(r.attempts).toBe(5);
    expect(delays).toHaveLength(4);
  });

  it("gives up after maxRetries with a clear error", async () => {
    fake.setFaults(() => ({ kind: "status", status: 500 }));
    const { llm } = client({ maxRetries: 2 });
    const e = await llm.chat(ask).catch((x) => x);
    expect(e).toBeInstanceOf(LlmError);
    expect(e.message).toMatch(/failed after 3 attempts: HTTP 500/);
    expect(e.fatal).toBe(false);
    expect(fake.requests).toHaveLength(3);
  });

  it("does not retry a bad key, marks it fatal, and never shows the key", async () => {
    fake.setFaults(() => ({ kind: "echo-auth" }));
    const { llm, delays } = client();
    const e = await llm.chat(ask).catch((x) => x);
    expect(e).toBeInstanceOf(LlmError);
    expect(e.fatal).toBe(true);
    expect(delays).toEqual([]);
    expect(fake.requests).toHaveLength(1);
    expect(e.message).toMatch(/HTTP 401/);
    expect(e.message).not.toContain(SECRET);
    expect(e.message).not.toContain("abcdefghijklmnop");
  });

  it("leaves no listeners on the caller's signal, however many calls share it", async () => {
    fake.setFaults(faultsInOrder([{ kind: "status", status: 500 }]));
    const { llm } = client();
    const controller = new AbortController();
    for (let i = 0; i < 12; i++) await llm.chat(ask, { signal: controller.signal });
    expect(getEventListeners(controller.signal, "abort")).toHaveLength(0);
  });

  it("embeds a batch and reports the dimension", async () => {
    const { llm } = client();
    const r = await llm.embed("text-embedding-3-small", ["military units", "sweater"], { dimensions: 32 });
    expect(r.dim).toBe(32);
    expect(r.vectors).toHaveLength(2);
    expect(Math.hypot(...r.vectors[0])).toBeCloseTo(1, 5);
    expect(fake.requests[0].body.encoding_format).toBe("float");
  });

  it("runs at most `concurrency` requests at once", async () => {
    fake.setFaults(() => ({ kind: "delay", ms: 30 }));
    fake.peakInFlight = 0;
    const { llm } = client({ concurrency: 2 });
    await Promise.all(Array.from({ length: 6 }, () => llm.chat(ask)));
    expect(fake.requests).toHaveLength(6);
    expect(fake.peakInFlight).toBeLessThanOrEqual(2);
  });
});

describe("retry policy", () => {
  const policy = { maxRetries: 5, baseDelayMs: 500, maxDelayMs: 20_000, maxRetryAfterMs: 60_000 };
  it("parses Retry-After as seconds, HTTP date, or retry-after-ms", () => {
    const h = (o: Record<string, string>) => new Headers(o);
    expect(parseRetryAfter(h({ "retry-after": "3" }))).toBe(3000);
    expect(parseRetryAfter(h({ "retry-after-ms": "250", "retry-after": "3" }))).toBe(250);
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(parseRetryAfter(h({ "retry-after": "Thu, 01 Jan 2026 00:00:10 GMT" }), now)).toBe(10_000);
    expect(parseRetryAfter(h({}))).toBeNull();
  });
  it("caps a server's Retry-After and the backoff", () => {
    expect(retryDelayMs(0, 10 * 60_000, policy, () => 0)).toBe(60_000);
    expect(retryDelayMs(10, null, policy, () => 1)).toBe(20_000);
    expect(retryDelayMs(0, null, policy, () => 0)).toBe(250);
  });
});
