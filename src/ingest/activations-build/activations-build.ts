// `monoscope activations build`: an SAE's dashboards computed from a corpus. Two passes:
//  1. scan: every text through the activation source and the SAE's stored encoder (batched
//     GEMM), accumulating per feature density, max, histogram, example candidates and the
//     float64 sums of the neuron correlations; checkpointed to the data dir, so a killed run
//     resumes where the last checkpoint left it.
//  2. examples: the chosen texts only, run again to cut their windows (32 tokens around the max).
// Then everything goes in through IngestService.mergeIntoSae: one transaction, so the SAE
// shows either its old examples or the new ones.
import { createHash } from "node:crypto";
import { join } from "node:path";
import { isAppError } from "../../errors.ts";
import type { Kernel } from "../../kernel/index.ts";
import type { Logger } from "../../logger.ts";
import type { EncodeService } from "../../modules/encode/encode.service.ts";
import { fingerprintFiles } from "../fingerprint.ts";
import type { IngestService } from "../ingest.service.ts";
import type { ActivationRow, FeatureRow } from "../ingest.types.ts";
import { type ProgressReporter, silentProgress } from "../progress.ts";
import { BatchEncoder } from "./batch-encoder.ts";
import { BuildState, type BuildParams } from "./build-state.ts";
import { loadCheckpoint, removeCheckpoint, saveCheckpoint } from "./checkpoint.ts";
import { type CorpusText, readCorpus } from "./corpus.ts";
import { type ExampleSpec, featureExamples, featureRow } from "./select.ts";

/** What the build needs of an ActivationSource (src/modules/text/activation-source.ts). */
export interface BuildHook {
  modelName: string;
  hookName: string;
  dIn: number;
}
export interface BuildActivations {
  tokens: string[];
  vectors: Float32Array;
  dIn: number;
}
export interface BuildSource {
  readonly name: string;
  activate(text: string, hook: BuildHook): Promise<BuildActivations>;
  activateMany?(texts: readonly string[], hook: BuildHook): Promise<BuildActivations[]>;
}

export interface BuildOptions {
  saeId: string;
  corpus: string;
  source: BuildSource;
  hook: BuildHook;
  /** Where the checkpoint lives (the data dir's activations-build/). */
  checkpointDir: string;
  top?: number;
  quantiles?: number;
  maxTokens?: number | null;
  replace?: boolean;
  progress?: ProgressReporter;
  log: Logger;
  /** Seconds between checkpoints (default 30). */
  checkpointSeconds?: number;
  /** Tests: stop (as if killed) after this many scan batches, right after a checkpoint. */
  stopAfterBatches?: number;
}

export interface BuildSummary {
  saeId: string;
  outcome: "created" | "replaced" | "merged" | "skipped";
  source: string;
  texts: number;
  tokens: number;
  skipped: number;
  resumedAtText: number | null;
  features: number;
  examples: number;
  scanSeconds: number;
  gemmSeconds: number;
  seconds: number;
  tokensPerSecond: number;
}

const BATCH_TEXTS = 256;
const BATCH_TOKENS = 8192;

export async function buildActivations(deps: { ingest: IngestService; encode: EncodeService; kernel: Kernel }, o: BuildOptions): Promise<BuildSummary> {
  const t0 = performance.now();
  const progress = o.progress ?? silentProgress;
  const enc = await deps.encode.loadEncoder(o.saeId);
  const encoder = new BatchEncoder(enc, deps.kernel);
  const params: BuildParams = { top: o.top ?? 20, perWord: 3, quantiles: o.quantiles ?? 5, perQuantile: 2, reservoir: 128, window: 32, seed: 20261202 };
  const what = JSON.stringify({ saeId: o.saeId, corpus: await fingerprintFiles([o.corpus]), source: o.source.name, maxTokens: o.maxTokens ?? null, params });
  // The stored build is this corpus, source and options; a checkpoint also belongs to one state
  // of the SAE's rows (their version changes with any other import in between).
  const contentHash = `activations-build:${createHash("sha256").update(what).digest("hex")}`;
  const key = createHash("sha256").update(what).update(enc.sae.version).digest("hex");
  const empty = (outcome: BuildSummary["outcome"]): BuildSummary => ({
    saeId: o.saeId, outcome, source: o.source.name, texts: 0, tokens: 0, skipped: 0, resumedAtText: null, features: 0, examples: 0,
    scanSeconds: 0, gemmSeconds: 0, seconds: (performance.now() - t0) / 1000, tokensPerSecond: 0,
  });
  const existing = await deps.ingest.findSae(o.saeId);
  if (!o.replace && existing?.imports.some((i) => i.contentHash === contentHash)) {
    o.log.info(`SAE ${o.saeId} already holds this build of ${o.corpus}: nothing to do (--replace rebuilds it)`);
    return empty("skipped");
  }

  const state = new BuildState(enc.sae.dSae, enc.sae.dIn, params);
  const ckpt = join(o.checkpointDir, `${encodeURIComponent(o.saeId)}.ckpt`);
  const resumed = loadCheckpoint(ckpt, key, state);
  const resumedAtText = resumed ? state.texts : null;
  if (resumed) o.log.info(`SAE ${o.saeId}: resuming the build from its checkpoint (${state.texts} texts, ${state.tokens} tokens done)`);

  const tScan = performance.now();
  const tokensBefore = state.tokens;
  const stopped = state.complete ? false : await scan(o, state, encoder, key, ckpt, progress);
  if (stopped) return { ...empty("skipped"), texts: state.texts, tokens: state.tokens };
  const scanSeconds = (performance.now() - tScan) / 1000;

  const features = Array.from(enc.matrix.indices);
  const specs = features.flatMap((j) => featureExamples(state, j));
  const rows = await cutWindows(o, encoder, specs, progress);
  const featureRows: FeatureRow[] = features.map((j) => featureRow(state, j));
  const summary = await deps.ingest.mergeIntoSae(
    o.saeId,
    { source: { format: "activations-build", path: o.corpus, activationSource: o.source.name, texts: state.texts, tokens: state.tokens }, contentHash },
    async (sink) => {
      for (let i = 0; i < featureRows.length; i += 1000) await sink.features(featureRows.slice(i, i + 1000));
      await sink.activations(rows);
    },
    { replace: o.replace, progress },
  );
  removeCheckpoint(ckpt);
  const seconds = (performance.now() - t0) / 1000;
  return {
    saeId: o.saeId, outcome: summary.outcome, source: o.source.name, texts: state.texts, tokens: state.tokens, skipped: state.skipped, resumedAtText,
    features: summary.features, examples: summary.activations, scanSeconds, gemmSeconds: encoder.gemmSeconds, seconds,
    tokensPerSecond: scanSeconds > 0 ? Math.round((state.tokens - tokensBefore) / scanSeconds) : 0,
  };
}

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
async function runBatch(o: BuildOptions, encoder: BatchEncoder, batch: CorpusText[]) {
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

/** Pass 1. Returns true when stopped early (stopAfterBatches), with the checkpoint written. */
async function scan(o: BuildOptions, s: BuildState, encoder: BatchEncoder, key: string, ckpt: string, progress: ProgressReporter): Promise<boolean> {
  const max = o.maxTokens ?? null;
  const total = max ?? (await countTexts(o.corpus));
  const unit = max ? "tokens" : "texts";
  const shown = () => ({ features: max ? s.tokens : s.texts, activations: 0, explanations: 0 });
  progress.start(`activations build ${o.saeId} (${o.source.name})`, total, unit);
  const every = (o.checkpointSeconds ?? 30) * 1000;
  let lastSave = Date.now();
  let batches = 0;
  let index = 0;
  let batch: CorpusText[] = [];
  let chars = 0;
  const flush = async (): Promise<boolean> => {
    const b = await runBatch(o, encoder, batch);
    batch = [];
    chars = 0;
    for (let i = 0; i < b.acts.length; i++) {
      if (max !== null && s.tokens >= max) return true;
      const a = b.acts[i];
      if (a) s.observe(a.tokens, b.x, b.codes, b.starts[i]!);
      else {
        s.texts++;
        s.skipped++;
      }
    }
    progress.update(shown());
    batches++;
    if (Date.now() - lastSave >= every || batches === o.stopAfterBatches) {
      saveCheckpoint(ckpt, key, s);
      lastSave = Date.now();
    }
    return max !== null && s.tokens >= max;
  };
  try {
    let done = max !== null && s.tokens >= max;
    for await (const t of done ? [] : readCorpus(o.corpus)) {
      if (index++ < s.texts) continue;
      s.line = t.line;
      batch.push(t);
      chars += t.text.length;
      // ~5 characters a token is a fair guess for word-level and BPE tokenizers alike
      if (batch.length >= BATCH_TEXTS || chars >= BATCH_TOKENS * 5) {
        if (await flush()) {
          done = true;
          break;
        }
        if (batches === o.stopAfterBatches) return true;
      }
    }
    if (!done && batch.length) await flush();
  } finally {
    progress.stop();
  }
  if (s.skipped) o.log.warn(`${o.corpus}: ${s.skipped} texts were over ${o.source.name}'s limits (MONOSCOPE_TEXT_MAX_CHARS, MONOSCOPE_TEXT_MAX_TOKENS) and were skipped`);
  s.complete = true;
  saveCheckpoint(ckpt, key, s);
  return false;
}

async function countTexts(path: string): Promise<number> {
  let n = 0;
  for await (const _ of readCorpus(path, "txt")) n++;
  return n;
}

/** Pass 2: the chosen texts again, each example's window cut around its max; rows ordered per feature as specs are. */
async function cutWindows(o: BuildOptions, encoder: BatchEncoder, specs: ExampleSpec[], progress: ProgressReporter): Promise<ActivationRow[]> {
  const byText = new Map<number, number[]>();
  specs.forEach((sp, i) => {
    const l = byText.get(sp.text);
    if (l) l.push(i);
    else byText.set(sp.text, [i]);
  });
  const out: (ActivationRow | null)[] = specs.map(() => null);
  const half = 32 >> 1;
  let batch: CorpusText[] = [];
  let ids: number[] = [];
  let done = 0;
  progress.start(`examples ${o.saeId}`, byText.size, "texts");
  const flush = async () => {
    const b = await runBatch(o, encoder, batch);
    b.acts.forEach((a, i) => {
      if (!a) throw new Error(`invariant failed: text ${ids[i]} was refused on the second pass`);
      const row0 = b.starts[i]!;
      for (const si of byText.get(ids[i]!)!) {
        const sp = specs[si]!;
        const len = a.tokens.length;
        const start = Math.max(0, Math.min(sp.pos - half, len - 32));
        const end = Math.min(len, start + 32);
        const tokens = a.tokens.slice(start, end);
        tokens[0] = tokens[0]!.trimStart();
        const values: number[] = [];
        for (let t = start; t < end; t++) {
          let v = 0;
          for (let e = b.codes.rowStart[row0 + t]!, z = b.codes.rowStart[row0 + t + 1]!; e < z; e++) if (b.codes.feature[e] === sp.feature) v = b.codes.value[e]!;
          values.push(v);
        }
        out[si] = { index: sp.feature, tokens, values, kind: sp.kind, binMin: sp.binMin, binMax: sp.binMax, source: batch[i]!.source };
      }
    });
    done += batch.length;
    progress.update({ features: done, activations: 0, explanations: 0 });
    batch = [];
    ids = [];
  };
  try {
    let index = 0;
    for await (const t of readCorpus(o.corpus)) {
      const id = index++;
      if (!byText.has(id)) continue;
      batch.push(t);
      ids.push(id);
      if (batch.length >= BATCH_TEXTS) await flush();
    }
    if (batch.length) await flush();
  } finally {
    progress.stop();
  }
  return out.map((r, i) => {
    if (!r) throw new Error(`invariant failed: text ${specs[i]!.text} of feature ${specs[i]!.feature} not found on the second pass`);
    return r;
  });
}
