// `monoscope activations build`: SAEs' dashboards computed from a corpus. Several SAEs of one
// model build together: each batch of texts goes through the model once for all their hooks
// (SAEs at the same hook share one activation set), then through each SAE's encoder. Two passes:
//  1. scan: every text through the activation source and each SAE's stored encoder (batched
//     GEMM), accumulating per feature density, max, histogram, example candidates and the
//     float64 sums of the neuron correlations; each SAE checkpointed to the data dir, so a
//     killed run resumes every SAE where its last checkpoint left it.
//  2. examples: the chosen texts only, run again to cut their windows (32 tokens around the max).
// Then each SAE goes in through IngestService.mergeIntoSae: one transaction per SAE, so an SAE
// shows either its old examples or the new ones.
import { createHash } from "node:crypto";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { badInput, fileError } from "../../errors.ts";
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
import type { BuildHook, BuildManyOptions, BuildOptions, BuildSae, BuildSummary } from "./build-types.ts";
import { featureExamples, featureRow } from "./select.ts";
import { activateAll, encodeBatch, hookKey } from "./source-batch.ts";
import { cutWindows } from "./windows.ts";

export type { BuildActivations, BuildHook, BuildManyOptions, BuildOptions, BuildSae, BuildSource, BuildSummary } from "./build-types.ts";

const BATCH_TEXTS = 256;
const BATCH_TOKENS = 8192;

type Deps = { ingest: IngestService; encode: EncodeService; kernel: Kernel };
type LoadedEncoder = Awaited<ReturnType<EncodeService["loadEncoder"]>>;

/** One SAE of the build and everything it accumulates. */
interface Job extends BuildSae {
  enc: LoadedEncoder;
  encoder: BatchEncoder;
  key: string;
  contentHash: string;
  ckpt: string;
  state: BuildState;
  resumedAtText: number | null;
  tokensBefore: number;
}

/** One SAE's build (`--sae x`). */
export async function buildActivations(deps: Deps, o: BuildOptions): Promise<BuildSummary> {
  const { saeId, hook, ...rest } = o;
  return (await buildActivationsMany(deps, { ...rest, saes: [{ saeId, hook }] }))[0]!;
}

/**
 * Several SAEs of one model through one source (`--sae a --sae b`): one summary per SAE, in the
 * order given. An SAE already holding this build is skipped; the others still build.
 */
export async function buildActivationsMany(deps: Deps, o: BuildManyOptions): Promise<BuildSummary[]> {
  const t0 = performance.now();
  const progress = o.progress ?? silentProgress;
  const saes = [...new Map(o.saes.map((s) => [s.saeId, s])).values()];
  if (saes.length === 0) throw badInput("--sae: name at least one SAE");
  checkOneModel(saes);
  const st = await stat(o.corpus).catch(() => null);
  if (!st?.isFile()) throw fileError(o.corpus, "--corpus", st ? "is not a file" : "not found");
  const params: BuildParams = { top: o.top ?? 20, perWord: 3, quantiles: o.quantiles ?? 5, perQuantile: 2, reservoir: 128, window: 32, seed: 20261202 };
  const corpusPrint = await fingerprintFiles([o.corpus]);
  const empty = (saeId: string, outcome: BuildSummary["outcome"]): BuildSummary => ({
    saeId, outcome, source: o.source.name, texts: 0, tokens: 0, skipped: 0, resumedAtText: null, features: 0, examples: 0,
    scanSeconds: 0, gemmSeconds: 0, seconds: (performance.now() - t0) / 1000, tokensPerSecond: 0,
  });
  // Every encoder is loaded (and every SAE checked) before anything is run or written.
  const planned: (Omit<Job, "state" | "resumedAtText" | "tokensBefore"> | BuildSummary)[] = [];
  for (const s of saes) {
    const enc = await deps.encode.loadEncoder(s.saeId);
    const what = JSON.stringify({ saeId: s.saeId, corpus: corpusPrint, source: o.source.name, maxTokens: o.maxTokens ?? null, params });
    // The stored build is this corpus, source and options; a checkpoint also belongs to one state
    // of the SAE's rows (their version changes with any other import in between).
    const contentHash = `activations-build:${createHash("sha256").update(what).digest("hex")}`;
    const key = createHash("sha256").update(what).update(enc.sae.version).digest("hex");
    const existing = await deps.ingest.findSae(s.saeId);
    if (!o.replace && existing?.imports.some((i) => i.contentHash === contentHash)) {
      o.log.info(`SAE ${s.saeId} already holds this build of ${o.corpus}: nothing to do (--replace rebuilds it)`);
      planned.push(empty(s.saeId, "skipped"));
      continue;
    }
    const ckpt = join(o.checkpointDir, `${encodeURIComponent(s.saeId)}.ckpt`);
    planned.push({ ...s, enc, encoder: new BatchEncoder(enc, deps.kernel), key, contentHash, ckpt });
  }
  const toBuild = planned.filter((p): p is Omit<Job, "state" | "resumedAtText" | "tokensBefore"> => !("outcome" in p));
  const releases: (() => void)[] = [];
  try {
    for (const p of toBuild) releases.push(claimCheckpoint(p.ckpt, `SAE ${JSON.stringify(p.saeId)}`));
    const jobs: Job[] = toBuild.map((p) => {
      const state = new BuildState(p.enc.sae.dSae, p.enc.sae.dIn, params);
      const resumed = loadCheckpoint(p.ckpt, p.key, state);
      if (resumed) o.log.info(`SAE ${p.saeId}: resuming the build from its checkpoint (${state.texts} texts, ${state.tokens} tokens done)`);
      return { ...p, state, resumedAtText: resumed ? state.texts : null, tokensBefore: state.tokens };
    });
    const built = jobs.length ? await run(deps, o, jobs, progress, t0) : new Map<string, BuildSummary>();
    return planned.map((p) => ("outcome" in p ? p : built.get(p.saeId)!));
  } finally {
    for (const release of releases) release();
  }
}

/** One build reads one model: SAEs of different models are refused, naming them and the option. */
function checkOneModel(saes: readonly BuildSae[]): void {
  const first = saes[0]!;
  for (const s of saes.slice(1)) {
    if (s.hook.modelName !== first.hook.modelName) {
      throw badInput(
        `--sae: SAE ${JSON.stringify(s.saeId)} reads model ${JSON.stringify(s.hook.modelName)}, but SAE ${JSON.stringify(first.saeId)} reads ${JSON.stringify(first.hook.modelName)}; ` +
          "one build runs SAEs of one model (build the others separately)",
        { arg: "sae", saeId: s.saeId },
      );
    }
  }
}

async function run(deps: { ingest: IngestService }, o: BuildManyOptions, jobs: Job[], progress: ProgressReporter, t0: number): Promise<Map<string, BuildSummary>> {
  const tScan = performance.now();
  const scanning = jobs.filter((j) => !j.state.complete);
  if (scanning.length) await scan(o, scanning, progress);
  const scanSeconds = (performance.now() - tScan) / 1000;

  const windowJobs = jobs.map((j) => ({ saeId: j.saeId, hook: j.hook, encoder: j.encoder, specs: Array.from(j.enc.matrix.indices).flatMap((f) => featureExamples(j.state, f)) }));
  const rowsPerJob = await cutWindows(o, windowJobs, progress);
  const out = new Map<string, BuildSummary>();
  for (const [k, j] of jobs.entries()) {
    const { state } = j;
    const featureRows: FeatureRow[] = Array.from(j.enc.matrix.indices, (f) => featureRow(state, f));
    const rows = rowsPerJob[k]!;
    const summary = await deps.ingest.mergeIntoSae(
      j.saeId,
      { source: { format: "activations-build", path: o.corpus, activationSource: o.source.name, texts: state.texts, tokens: state.tokens }, contentHash: j.contentHash },
      async (sink) => {
        for (let i = 0; i < featureRows.length; i += 1000) await sink.features(featureRows.slice(i, i + 1000));
        await sink.activations(rows);
      },
      { replace: o.replace, progress },
    );
    removeCheckpoint(j.ckpt);
    out.set(j.saeId, {
      saeId: j.saeId, outcome: summary.outcome, source: o.source.name, texts: state.texts, tokens: state.tokens, skipped: state.skipped, resumedAtText: j.resumedAtText,
      features: summary.features, examples: summary.activations, scanSeconds, gemmSeconds: j.encoder.gemmSeconds, seconds: (performance.now() - t0) / 1000,
      tokensPerSecond: scanSeconds > 0 ? Math.round((state.tokens - j.tokensBefore) / scanSeconds) : 0,
    });
  }
  return out;
}

/**
 * Pass 1 for the SAEs still scanning, each from where its checkpoint left it (checkpoints are
 * written together, but a kill between two writes leaves them a batch apart: a batch goes to an
 * SAE from its own next text on). Ends with every checkpoint marked complete.
 */
async function scan(o: BuildManyOptions, jobs: Job[], progress: ProgressReporter): Promise<void> {
  const max = o.maxTokens ?? null;
  const total = max ?? (await countTexts(o.corpus));
  const unit = max ? "tokens" : "texts";
  const reached = (j: Job) => max !== null && j.state.tokens >= max;
  const shown = () => ({ features: Math.min(...jobs.map((j) => (max ? j.state.tokens : j.state.texts))), activations: 0, explanations: 0 });
  const keys = [...new Set(jobs.map((j) => hookKey(j.hook)))];
  const hooks: BuildHook[] = keys.map((k) => jobs.find((j) => hookKey(j.hook) === k)!.hook);
  const hookOf = jobs.map((j) => keys.indexOf(hookKey(j.hook)));
  const saveAll = () => {
    for (const j of jobs) saveCheckpoint(j.ckpt, j.key, j.state);
  };
  progress.start(`activations build ${jobs.map((j) => j.saeId).join(", ")} (${o.source.name})`, total, unit);
  const every = (o.checkpointSeconds ?? 30) * 1000;
  let lastSave = Date.now();
  const from = Math.min(...jobs.map((j) => j.state.texts));
  let index = 0;
  let batchStart = from;
  let batch: CorpusText[] = [];
  let chars = 0;
  const flush = async (): Promise<boolean> => {
    const texts = batch.map((b) => b.text);
    const start = batchStart;
    batch = [];
    chars = 0;
    batchStart += texts.length;
    const open = jobs.map((j) => !reached(j) && j.state.texts < start + texts.length);
    const usedHooks = hooks.map((_, h) => jobs.some((_, k) => open[k] && hookOf[k] === h));
    const used = hooks.filter((_, h) => usedHooks[h]);
    const perUsed = await activateAll(o.source, used, texts);
    for (const [k, j] of jobs.entries()) {
      if (!open[k]) continue;
      const s = j.state;
      const acts = perUsed[used.indexOf(hooks[hookOf[k]!]!)]!.slice(s.texts - start);
      const b = await encodeBatch(o.source.name, j.hook, j.encoder, acts);
      for (let i = 0; i < acts.length; i++) {
        if (reached(j)) break;
        const a = acts[i];
        if (a) s.observe(a.tokens, b.x, b.codes, b.starts[i]!);
        else {
          s.texts++;
          s.skipped++;
        }
      }
    }
    progress.update(shown());
    if (Date.now() - lastSave >= every) {
      saveAll();
      lastSave = Date.now();
    }
    return jobs.every(reached);
  };
  try {
    let done = jobs.every(reached);
    for await (const t of done ? [] : readCorpus(o.corpus)) {
      if (index++ < from) continue;
      for (const j of jobs) if (j.state.texts <= index - 1) j.state.line = t.line;
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
  for (const j of jobs) {
    if (j.state.skipped) o.log.warn(`${o.corpus}: ${j.state.skipped} texts were over ${o.source.name}'s limits (MONOSCOPE_TEXT_MAX_CHARS, MONOSCOPE_TEXT_MAX_TOKENS) and were skipped (SAE ${j.saeId})`);
    j.state.complete = true;
  }
  saveAll();
}

async function countTexts(path: string): Promise<number> {
  let n = 0;
  for await (const _ of readCorpus(path, "txt")) n++;
  return n;
}
