// `monoscope activations build`: an SAE's dashboards computed from a corpus. Two passes:
//  1. scan: every text through the activation source and the SAE's stored encoder (batched
//     GEMM), accumulating per feature density, max, histogram, example candidates and the
//     float64 sums of the neuron correlations; checkpointed to the data dir, so a killed run
//     resumes where the last checkpoint left it.
//  2. examples: the chosen texts only, run again to cut their windows (32 tokens around the max).
// Then everything goes in through IngestService.mergeIntoSae: one transaction, so the SAE
// shows either its old examples or the new ones.
import { createHash } from "node:crypto";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { fileError } from "../../errors.ts";
import type { Kernel } from "../../kernel/index.ts";
import type { EncodeService } from "../../modules/encode/encode.service.ts";
import { fingerprintFiles } from "../fingerprint.ts";
import type { IngestService } from "../ingest.service.ts";
import type { FeatureRow } from "../ingest.types.ts";
import { type ProgressReporter, silentProgress } from "../progress.ts";
import { BatchEncoder } from "./batch-encoder.ts";
import { BuildState, type BuildParams } from "./build-state.ts";
import { claimCheckpoint, loadCheckpoint, removeCheckpoint, saveCheckpoint } from "./checkpoint.ts";
import { type CorpusText, readCorpus } from "./corpus.ts";
import type { BuildOptions, BuildSummary } from "./build-types.ts";
import { featureExamples, featureRow } from "./select.ts";
import { runBatch } from "./source-batch.ts";
import { cutWindows } from "./windows.ts";

export type { BuildActivations, BuildHook, BuildOptions, BuildSource, BuildSummary } from "./build-types.ts";

const BATCH_TEXTS = 256;
const BATCH_TOKENS = 8192;

export async function buildActivations(deps: { ingest: IngestService; encode: EncodeService; kernel: Kernel }, o: BuildOptions): Promise<BuildSummary> {
  const t0 = performance.now();
  const progress = o.progress ?? silentProgress;
  const st = await stat(o.corpus).catch(() => null);
  if (!st?.isFile()) throw fileError(o.corpus, "--corpus", st ? "is not a file" : "not found");
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

  const ckpt = join(o.checkpointDir, `${encodeURIComponent(o.saeId)}.ckpt`);
  const release = claimCheckpoint(ckpt, `SAE ${JSON.stringify(o.saeId)}`);
  try {
    return await run(deps, o, { t0, progress, enc, encoder, params, key, contentHash, ckpt });
  } finally {
    release();
  }
}

async function run(
  deps: { ingest: IngestService },
  o: BuildOptions,
  c: { t0: number; progress: ProgressReporter; enc: Awaited<ReturnType<EncodeService["loadEncoder"]>>; encoder: BatchEncoder; params: BuildParams; key: string; contentHash: string; ckpt: string },
): Promise<BuildSummary> {
  const { t0, progress, enc, encoder, params, key, contentHash, ckpt } = c;
  const state = new BuildState(enc.sae.dSae, enc.sae.dIn, params);
  const resumed = loadCheckpoint(ckpt, key, state);
  const resumedAtText = resumed ? state.texts : null;
  if (resumed) o.log.info(`SAE ${o.saeId}: resuming the build from its checkpoint (${state.texts} texts, ${state.tokens} tokens done)`);

  const tScan = performance.now();
  const tokensBefore = state.tokens;
  if (!state.complete) await scan(o, state, encoder, key, ckpt, progress);
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

/** Pass 1, from where the checkpoint left it; ends with a checkpoint marked complete. */
async function scan(o: BuildOptions, s: BuildState, encoder: BatchEncoder, key: string, ckpt: string, progress: ProgressReporter): Promise<void> {
  const max = o.maxTokens ?? null;
  const total = max ?? (await countTexts(o.corpus));
  const unit = max ? "tokens" : "texts";
  const shown = () => ({ features: max ? s.tokens : s.texts, activations: 0, explanations: 0 });
  progress.start(`activations build ${o.saeId} (${o.source.name})`, total, unit);
  const every = (o.checkpointSeconds ?? 30) * 1000;
  let lastSave = Date.now();
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
    if (Date.now() - lastSave >= every) {
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
      }
    }
    if (!done && batch.length) await flush();
  } finally {
    progress.stop();
  }
  if (s.skipped) o.log.warn(`${o.corpus}: ${s.skipped} texts were over ${o.source.name}'s limits (MONOSCOPE_TEXT_MAX_CHARS, MONOSCOPE_TEXT_MAX_TOKENS) and were skipped`);
  s.complete = true;
  saveCheckpoint(ckpt, key, s);
}

async function countTexts(path: string): Promise<number> {
  let n = 0;
  for await (const _ of readCorpus(path, "txt")) n++;
  return n;
}

