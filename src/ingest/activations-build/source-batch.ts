// One batch of corpus texts through the activation source and the SAE's encoder.
import { isAppError } from "../../errors.ts";
import type { BatchEncoder } from "./batch-encoder.ts";
import type { BuildActivations, BuildHook, BuildOptions, BuildSource } from "./build-types.ts";
import type { CorpusText } from "./corpus.ts";

/** Texts through the source, refused ones (over the source's limits) as null. */
async function activateAll(source: BuildSource, hook: BuildHook, texts: string[]): Promise<(BuildActivations | null)[]> {
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

/** One batch through source and encoder: per text its activations and the batch row it starts at. */
export async function runBatch(o: BuildOptions, encoder: BatchEncoder, batch: CorpusText[]) {
  const acts = await activateAll(o.source, o.hook, batch.map((b) => b.text));
  let rows = 0;
  for (const a of acts) if (a) rows += a.tokens.length;
  const x = new Float32Array(rows * o.hook.dIn);
  const starts: number[] = [];
  let r = 0;
  for (const a of acts) {
    starts.push(r);
    if (!a) continue;
    if (a.dIn !== o.hook.dIn || a.vectors.length !== a.tokens.length * a.dIn) throw new Error(`invariant failed: ${o.source.name} returned ${a.vectors.length} values for ${a.tokens.length} tokens of width ${a.dIn}`);
    x.set(a.vectors, r * o.hook.dIn);
    r += a.tokens.length;
  }
  return { acts, x, starts, codes: await encoder.encode(x, rows) };
}

