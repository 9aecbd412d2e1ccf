// One batch of corpus texts through the activation source (every hook the build's SAEs read,
// in one forward pass where the source can) and then through each SAE's encoder.
import { isAppError } from "../../errors.ts";
import type { BatchEncoder } from "./batch-encoder.ts";
import type { BuildActivations, BuildHook, BuildSource } from "./build-types.ts";

/** SAEs that read the same hook (model, hook name, width) share one activation set. */
export function hookKey(h: BuildHook): string {
  return `${h.modelName}\u0000${h.hookName}\u0000${h.dIn}`;
}

/** Texts through the source at one hook, refused ones (over the source's limits) as null. */
async function activateOne(source: BuildSource, hook: BuildHook, texts: string[]): Promise<(BuildActivations | null)[]> {
  if (source.activateMany) {
    try {
      return await source.activateMany(texts, hook);
    } catch (e) {
      if (!isAppError(e)) throw e; // one refused text: find it below
    }
  }
  const out: (BuildActivations | null)[] = [];
  for (const t of texts) {
    try {
      out.push(await source.activate(t, hook));
    } catch (e) {
      if (!isAppError(e)) throw e;
      out.push(null);
    }
  }
  return out;
}

/**
 * Texts through the source at every hook: result[hook][text], refused texts null. Several hooks
 * go through the model together (activateHooks: one forward pass per batch) where the source
 * has it, else one call per hook.
 */
export async function activateAll(source: BuildSource, hooks: readonly BuildHook[], texts: string[]): Promise<(BuildActivations | null)[][]> {
  if (hooks.length > 1 && source.activateHooks) {
    const byHook = (perText: (BuildActivations[] | null)[]) => hooks.map((_, h) => perText.map((r) => (r ? r[h]! : null)));
    try {
      return byHook(await source.activateHooks(texts, hooks));
    } catch (e) {
      if (!isAppError(e)) throw e; // one refused text: find it below
    }
    const perText: (BuildActivations[] | null)[] = [];
    for (const t of texts) {
      try {
        perText.push((await source.activateHooks([t], hooks))[0]!);
      } catch (e) {
        if (!isAppError(e)) throw e;
        perText.push(null);
      }
    }
    return byHook(perText);
  }
  const out: (BuildActivations | null)[][] = [];
  for (const hook of hooks) out.push(await activateOne(source, hook, texts));
  return out;
}

/** The texts' activations at one SAE's hook through its encoder: the stacked rows, the row each text starts at, the codes. */
export async function encodeBatch(sourceName: string, hook: BuildHook, encoder: BatchEncoder, acts: readonly (BuildActivations | null)[]) {
  let rows = 0;
  for (const a of acts) if (a) rows += a.tokens.length;
  const x = new Float32Array(rows * hook.dIn);
  const starts: number[] = [];
  let r = 0;
  for (const a of acts) {
    starts.push(r);
    if (!a) continue;
    if (a.dIn !== hook.dIn || a.vectors.length !== a.tokens.length * a.dIn) throw new Error(`invariant failed: ${sourceName} returned ${a.vectors.length} values for ${a.tokens.length} tokens of width ${a.dIn}`);
    x.set(a.vectors, r * hook.dIn);
    r += a.tokens.length;
  }
  return { acts, x, starts, codes: await encoder.encode(x, rows) };
}
