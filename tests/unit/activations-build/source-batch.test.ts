// How a batch reaches the activation source for several hooks: one activateHooks call (one
// forward pass) for all hooks where the source has it, one call per hook where it does not, and
// a text over the source's limits found and left out (null) either way, the others kept.
import { describe, expect, it } from "vitest";
import type { BuildActivations, BuildHook, BuildSource } from "../../../src/ingest/activations-build/build-types.ts";
import { activateAll } from "../../../src/ingest/activations-build/source-batch.ts";
import { badInput } from "../../../src/errors.ts";

const hooks: BuildHook[] = [
  { modelName: "m", hookName: "blocks.0.hook_resid_pre", dIn: 2 },
  { modelName: "m", hookName: "blocks.1.hook_resid_post", dIn: 2 },
];
/** Token i of text at hook h: [h, length of the token]. Texts with "TOO LONG" are refused. */
function acts(text: string, hook: BuildHook): BuildActivations {
  if (text.includes("TOO LONG")) throw badInput("text is over the limit");
  const tokens = text.split(" ");
  const h = hooks.findIndex((x) => x.hookName === hook.hookName);
  return { tokens, vectors: Float32Array.from(tokens.flatMap((t) => [h, t.length])), dIn: 2 };
}

function counting(withHooks: boolean) {
  const calls: string[] = [];
  const source: BuildSource = {
    name: "counted",
    async activate(text, hook) {
      calls.push(`activate ${hook.hookName}`);
      return acts(text, hook);
    },
    async activateMany(texts, hook) {
      calls.push(`activateMany ${hook.hookName} x${texts.length}`);
      return texts.map((t) => acts(t, hook));
    },
    ...(withHooks
      ? {
          async activateHooks(texts: readonly string[], hs: readonly BuildHook[]) {
            calls.push(`activateHooks x${texts.length} at ${hs.length}`);
            return texts.map((t) => hs.map((h) => acts(t, h)));
          },
        }
      : {}),
  };
  return { source, calls };
}

const texts = ["a bb", "ccc", "dd e f"];
const expected = hooks.map((h) => texts.map((t) => acts(t, h)));

describe("activateAll", () => {
  it("runs all hooks in one activateHooks call where the source has it", async () => {
    const { source, calls } = counting(true);
    expect(await activateAll(source, hooks, texts)).toEqual(expected);
    expect(calls).toEqual(["activateHooks x3 at 2"]);
  });

  it("one call per hook for a source without activateHooks, and for a single hook", async () => {
    const plain = counting(false);
    expect(await activateAll(plain.source, hooks, texts)).toEqual(expected);
    expect(plain.calls).toEqual(["activateMany blocks.0.hook_resid_pre x3", "activateMany blocks.1.hook_resid_post x3"]);
    const one = counting(true);
    expect(await activateAll(one.source, [hooks[1]!], texts)).toEqual([expected[1]]);
    expect(one.calls).toEqual(["activateMany blocks.1.hook_resid_post x3"]);
  });

  it("leaves out a refused text at every hook and keeps the others", async () => {
    const withRefused = ["a bb", "TOO LONG", "ccc"];
    for (const withHooks of [true, false]) {
      const { source } = counting(withHooks);
      const got = await activateAll(source, hooks, withRefused);
      expect(got).toEqual(hooks.map((h) => [acts("a bb", h), null, acts("ccc", h)]));
    }
  });

  it("an error that is not bad input stops the batch", async () => {
    const { source } = counting(true);
    source.activateHooks = async () => {
      throw new Error("session crashed");
    };
    await expect(activateAll(source, hooks, texts)).rejects.toThrow("session crashed");
  });
});
