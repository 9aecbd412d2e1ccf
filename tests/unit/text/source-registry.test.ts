// Which source serves an SAE: model directories from the config (MONOSCOPE_MODEL_DIR_<MODEL_ID>,
// MONOSCOPE_MODEL_DIRS), factories asked in order with a configured directory passed on, sources
// built once, and the error naming the SAE and the variable when nothing serves its model.
import { describe, expect, it } from "vitest";
import { loadConfig, modelEnvKey } from "../../../src/config.ts";
import type { ActivationSource, HookRef } from "../../../src/modules/text/activation-source.ts";
import { GloveSource } from "../../../src/modules/text/glove-source.ts";
import { SOURCE_FACTORIES, SourceRegistry, type SourceRequest } from "../../../src/modules/text/source-registry.ts";

const LIMITS = { maxChars: 100, maxTokens: 10 };
const GPT2: HookRef = { modelName: "gpt2-small", hookName: "blocks.5.hook_resid_pre", dIn: 768 };
const GLOVE: HookRef = { modelName: "glove-6b-100d", hookName: "word_vectors", dIn: 100 };

function fakeSource(name: string, hook: string): ActivationSource {
  return { name, supports: (h) => h.hookName === hook, activate: async () => ({ tokens: [], vectors: new Float32Array(), dIn: 0, tensor: name }) };
}

describe("model directories in the config", () => {
  it("keys them by the model id upper-cased with other characters as _", () => {
    expect(modelEnvKey("gpt2-small")).toBe("GPT2_SMALL");
    expect(modelEnvKey("google/gemma-2-2b")).toBe("GOOGLE_GEMMA_2_2B");
    const c = loadConfig({ MONOSCOPE_MODEL_DIR_GPT2_SMALL: "/models/gpt2", MONOSCOPE_MODEL_DIRS: "google/gemma-2-2b=/models/gemma, gpt2-small=/elsewhere" } as NodeJS.ProcessEnv);
    // The per-model variable wins over the list.
    expect(c.text.modelDirs).toEqual({ GPT2_SMALL: "/models/gpt2", GOOGLE_GEMMA_2_2B: "/models/gemma" });
    expect(c.text).toMatchObject({ maxChars: 8192, maxTokens: 512 });
    expect(loadConfig({ MONOSCOPE_TEXT_MAX_CHARS: "100", MONOSCOPE_TEXT_MAX_TOKENS: "7" } as NodeJS.ProcessEnv).text).toMatchObject({ maxChars: 100, maxTokens: 7 });
  });

  it("reports malformed entries and limits at once", () => {
    expect(() => loadConfig({ MONOSCOPE_MODEL_DIRS: "gpt2", MONOSCOPE_MODEL_DIR_gpt2: "/x" } as NodeJS.ProcessEnv)).toThrow(/MONOSCOPE_MODEL_DIRS: "gpt2" is not model=dir[\s\S]*MONOSCOPE_MODEL_DIR_gpt2: the model id part/);
    expect(() => loadConfig({ MONOSCOPE_TEXT_MAX_TOKENS: "0" } as NodeJS.ProcessEnv)).toThrow(/MONOSCOPE_TEXT_MAX_TOKENS/);
  });
});

describe("SourceRegistry", () => {
  it("serves the demo's SAEs with glove-wordnet by default", () => {
    const r = new SourceRegistry({ limits: LIMITS, modelDirs: {}, modelEnvKey });
    expect(r.sourceFor(GLOVE, "glove-wordnet/512")).toBeInstanceOf(GloveSource);
    expect(r.sourceFor(GLOVE, "glove-wordnet/2048")).toBe(r.sourceFor(GLOVE, "glove-wordnet/512"));
    expect(Object.keys(SOURCE_FACTORIES)).toContain("glove-wordnet");
  });

  it("asks factories in order, passes the configured directory, and builds each source once", () => {
    const asked: SourceRequest[] = [];
    const built: string[] = [];
    const r = new SourceRegistry({
      limits: LIMITS,
      modelDirs: { GPT2_SMALL: "/models/gpt2" },
      modelEnvKey,
      factories: {
        first: (req) => {
          asked.push(req);
          if (!req.modelDir) return null;
          built.push("first");
          return fakeSource("first", "blocks.5.hook_resid_pre");
        },
        second: () => {
          built.push("second");
          return fakeSource("second", "blocks.9.hook_resid_post");
        },
      },
    });
    expect(r.sourceFor(GPT2, "gpt2-small/5").name).toBe("first");
    expect(r.sourceFor(GPT2, "gpt2-small/5b").name).toBe("first");
    expect(asked[0]).toEqual({ hook: GPT2, modelDir: "/models/gpt2", limits: LIMITS });
    // A hook the first source cannot serve falls through to the next factory.
    expect(r.sourceFor({ ...GPT2, hookName: "blocks.9.hook_resid_post" }, "gpt2-small/9").name).toBe("second");
    expect(built).toEqual(["first", "second"]);
  });

  it("names the SAE and the variable to set when nothing serves its model", () => {
    const r = new SourceRegistry({ limits: LIMITS, modelDirs: { OTHER: "/models/other" }, modelEnvKey });
    expect(() => r.sourceFor(GPT2, "gpt2-small/5")).toThrow(
      'SAE "gpt2-small/5" has no activation source: nothing runs model "gpt2-small" at hook "blocks.5.hook_resid_pre". Set MONOSCOPE_MODEL_DIR_GPT2_SMALL to a local directory',
    );
    try {
      r.sourceFor({ ...GPT2, modelName: "other" }, "other/1");
    } catch (e) {
      // The ONNX source takes any configured directory; this one is missing, and the error says which and from where.
      expect(e).toMatchObject({ code: "BAD_USER_INPUT", message: "ONNX model directory /models/other (MONOSCOPE_MODEL_DIR_OTHER): does not exist or is not a directory" });
      return;
    }
    throw new Error("expected an error");
  });
});
