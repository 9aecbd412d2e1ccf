import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.ts";
import { AppError, redactSecrets } from "../../src/errors.ts";

describe("loadConfig", () => {
  it("defaults to the embedded backend under ./.monoscope with no LLM", () => {
    const c = loadConfig({});
    expect(c.database.kind).toBe("pglite");
    expect(c.dataDir.endsWith(".monoscope")).toBe(true);
    expect(c.llm).toBeNull();
    expect(c.server.maxDepth).toBe(10);
    expect(Object.isFrozen(c.server)).toBe(true);
  });

  it("uses PostgreSQL when DATABASE_URL is set, and enables the LLM with a base URL only", () => {
    const c = loadConfig({ DATABASE_URL: "postgresql://u@h:5432/db", OPENAI_BASE_URL: "http://127.0.0.1:11434/v1" });
    expect(c.database).toMatchObject({ kind: "postgres", url: "postgresql://u@h:5432/db" });
    expect(c.llm).toMatchObject({ apiKey: null, baseURL: "http://127.0.0.1:11434/v1", explainerModel: "gpt-4o-mini" });
  });

  it("reports every problem at once", () => {
    let err: unknown;
    try {
      loadConfig({ DATABASE_URL: "mysql://x", MONOSCOPE_MAX_DEPTH: "zero", OPENAI_BASE_URL: "not a url" });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(AppError);
    const msg = (err as Error).message;
    expect(msg).toContain("DATABASE_URL");
    expect(msg).toContain("MONOSCOPE_MAX_DEPTH");
    expect(msg).toContain("OPENAI_BASE_URL");
  });

  it("treats empty strings as unset", () => {
    expect(loadConfig({ DATABASE_URL: "", OPENAI_API_KEY: "" }).llm).toBeNull();
  });

  it("redacts passwords and keys", () => {
    expect(redactSecrets("postgresql://bob:hunter2@db:5432/x")).toBe("postgresql://bob:***@db:5432/x");
    expect(redactSecrets("key sk-abcdefghijklmnop")).not.toContain("ijklmnop");
    expect(redactSecrets("Authorization: Bearer abc.def")).toBe("Authorization: Bearer ***");
  });
});
