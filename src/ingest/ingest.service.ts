/**
 * IngestService: the one write path for SAE data. Every importer (SAELens, Neuronpedia,
 * native JSONL, the demo builder) parses its format into the shapes of ingest.types.ts
 * and hands them to this service.
 *
 *   // a new SAE (or --replace of one): invisible until every row is in
 *   const summary = await services.ingest.ingestSae(artifact, async (sink) => {
 *     await sink.features([{ index: 0, decoder: Float32Array, encoder?, bEnc?, threshold?, density?, ... }]);
 *     await sink.activations([{ index: 0, tokens: ["the", " cat"], values: [0, 1.5], kind: "top" }]);
 *     await sink.explanations([{ index: 0, text: "cats" }]);            // method defaults to "imported"
 *   }, { replace: false, progress });
 *
 *   // rows added to an existing, visible SAE, in one transaction (activations, stats, labels)
 *   await services.ingest.mergeIntoSae(saeId, { source: { format: "native", path }, contentHash }, async (sink) => {...}, { replace });
 *
 *   await services.ingest.removeSae(saeId);  // the SAE and everything hanging off it (soft delete, dropped after the grace)
 *
 * Rules:
 * - ingestSae creates model/family when missing (model d_model = artifact.model.dModel ?? sae.dIn; an existing
 *   model must match it), then the SAE row in status 'loading' with its detached tables (one per partitioned
 *   table, in schema monoscope_load_schema(id), holding only the unique keys the load's upserts need), streams
 *   rows into them (binary COPY on both backends; no foreign keys there, so no per-row checks), builds the
 *   rest of their parents' indexes and their foreign keys to unpartitioned tables, and in one final
 *   transaction attaches them as the SAE's partitions and flips the status to 'ready': a reader sees no row
 *   of the SAE or all of them. Any error deletes what this run wrote (and the model/family it created), so a
 *   failed ingest changes no rows. A run killed with SIGKILL leaves a 'loading' SAE and its detached tables,
 *   attached to nothing; the next run of the same SAE id (or `rm`) discards them and loads from scratch.
 * - Same contentHash as the ready SAE: a no-op ("skipped") unless replace. Different content without replace,
 *   or an SAE id that belongs to another model, or a dimension mismatch: a one-line AppError before any write.
 *   With replace, the old SAE is removed when loading starts (after the cheap checks).
 * - Decoders are stored unit-normalised (halfvec) with decoder_norm; a zero row is stored as NULL with norm 0.
 *   neuron_index/neuron_cosine default to the basis direction with the largest |cosine| with the decoder.
 * - Activation ordinals are assigned per feature in arrival order (after existing ones, when merging);
 *   max_value/max_token_index are computed; text defaults to tokens.join("").
 * - Dashboards (feature_dashboard jsonb): posLogits/negLogits [{token, value}], histograms {values, heights},
 *   correlatedNeurons/correlatedFeatures {indices, pearson, l1}, neuronAlignment {indices, values, l1}, extra {...}.
 * - removeSae is a soft delete: the SAE turns 'deleting' in one statement (every read path that resolves an SAE or a
 *   feature filters on status = 'ready', so a request that starts after removeSae returns no longer finds it), and its
 *   rows and partitions are dropped once deleteGraceMs (longer than any read request may run: the request timeout plus
 *   a margin) has passed since, by a timer of this process; a 'deleting' SAE whose process went away is dropped by the
 *   next start (dropDue) or removeSae. So a request that resolved a feature before the delete reads all of it (examples,
 *   labels, dashboard) to the end, whichever statement of it runs after the delete. The answer (the rows per table)
 *   is counted at the flip. Ingesting the id of a 'deleting' SAE waits for the rest of its grace, then drops it and loads.
 * - Post-ingest steps (`steps`, constructor argument: search indexing, neighbour lists, lineage, maps, ...) are
 *   durable: the steps of an event ("ready": created/replaced; "updated": a merge that changed decoders;
 *   "examples": a merge of examples or labels only) are recorded in the database before the SAE turns ready
 *   (a kill before the flip leaves a loading SAE that the next run discards) or inside the merge's transaction,
 *   then run. Whatever a kill interrupts stays pending (Sae.pendingSteps) and the next ingest of the SAE, even
 *   one with nothing new to load, finishes it. A failing step is logged; the data stays committed.
 */
import { assertSlug } from "../db/ddl.ts";
import type { Database } from "../db/database.ts";
import { badInput, conflict, notFound } from "../errors.ts";
import type { Logger } from "../logger.ts";
import { BulkRepository } from "./bulk/bulk.repository.ts";
import { checkArtifact, summary } from "./ingest.checks.ts";
import { IngestSession } from "./ingest.session.ts";
import type { DeletedCounts, IngestRepository, SaeRow } from "./ingest.repository.ts";
import type { ArtifactSource, IngestSink, IngestSummary, SaeArtifact } from "./ingest.types.ts";
import { type ProgressReporter, silentProgress } from "./progress.ts";

/** How soon a drop that found its SAE locked (an ingest or another process on it) is tried again. */
const DROP_RETRY_MS = 2000;
/** How long a background drop waits for one lock before it rolls back (and is tried again later). */
const DROP_LOCK_MS = 500;

/** The job module's StepService, as ingest uses it. */
export interface PostIngestSteps {
  /** Records the event's steps on conn, inside the caller's transaction. */
  record(conn: { query(sql: string, params?: unknown[]): Promise<unknown[]> }, saeId: string, event: "ready" | "updated" | "examples"): Promise<void>;
  runPending(saeId: string, onProgress?: (step: string, done: number, total: number) => void): Promise<number>;
}

export interface IngestOptions {
  replace?: boolean;
  progress?: ProgressReporter;
  /** Field names for error messages, e.g. { decoder: "W_dec", encoder: "W_enc" }. */
  fields?: { decoder?: string; encoder?: string };
}

export class IngestService {
  constructor(
    private readonly db: Database,
    private readonly repo: IngestRepository,
    private readonly log: Logger,
    /** null: no post-ingest steps (benchmarks of the write path alone). */
    public steps: PostIngestSteps | null = null,
    /** How long a removed SAE's rows outlive its removal (0: dropped before removeSae returns). */
    private readonly deleteGraceMs = 0,
  ) {}

  /** The next scheduled drop of deleted SAEs (this process), the drops in progress, and the SAE ids this service has locked. */
  private dropTimer: NodeJS.Timeout | null = null;
  private dropping: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly busy = new Set<string>();

  /** Where rows go: the embedded database runs its COPY on this process's main thread. */
  get backend(): "postgres" | "pglite" {
    return this.db.backend;
  }

  /** Any SAE row, including one still loading. */
  findSae(id: string): Promise<SaeRow | null> {
    return this.repo.findSae(id);
  }

  async ingestSae(artifact: SaeArtifact, produce: (sink: IngestSink) => Promise<void>, opts: IngestOptions = {}): Promise<IngestSummary> {
    const t0 = performance.now();
    const { sae } = artifact;
    checkArtifact(artifact);
    const bulk = await BulkRepository.open(this.db);
    let locked = false;
    let started = false;
    let createdModel: string | null = null;
    let createdFamily: string | null = null;
    try {
      locked = await this.lock(bulk, sae.id);
      let existing = await this.repo.findSae(sae.id);
      if (existing?.status === "deleting") {
        await this.dropAfterGrace(sae.id);
        existing = null;
      }
      if (existing && existing.modelId !== artifact.model.id) {
        throw conflict(
          `${artifact.source.path}: --sae: SAE id ${JSON.stringify(sae.id)} is already used by model ${JSON.stringify(existing.modelId)}, ` +
            `but this artifact is for ${JSON.stringify(artifact.model.id)}; choose another --sae id`,
        );
      }
      let outcome: IngestSummary["outcome"] = "created";
      if (existing?.status === "ready") {
        if (existing.contentHash === artifact.contentHash && !opts.replace) {
          this.log.info(`SAE ${sae.id} already holds this artifact (${artifact.contentHash.slice(0, 19)}…): nothing to load (--replace reloads it)`);
          await this.runSteps(sae.id, opts);
          return summary(sae.id, "skipped", { features: 0, activations: 0, explanations: 0 }, t0);
        }
        if (!opts.replace) {
          const from = typeof existing.source.path === "string" ? ` (ingested from ${existing.source.path})` : "";
          throw conflict(`${artifact.source.path}: --sae: SAE ${JSON.stringify(sae.id)} already exists with different content${from}; pass --replace to overwrite it`);
        }
        outcome = "replaced";
      }
      const dModel = artifact.model.dModel ?? sae.dIn;
      const model = await this.repo.findModel(artifact.model.id);
      if (model && model.dModel !== dModel) {
        const what = artifact.model.dModel === undefined ? `the SAE's d_in ${sae.dIn}` : `--model-dim ${dModel}`;
        throw badInput(`${artifact.source.path}: d_in: model ${JSON.stringify(model.id)} has d_model ${model.dModel}, but ${what} differs (pass --model-dim ${model.dModel} if this SAE reads a non-residual hook)`);
      }
      const familyId = artifact.family?.id ?? null;
      let family = null;
      if (familyId) {
        family = await this.repo.findFamily(familyId);
        if (family && family.modelId !== artifact.model.id) {
          throw conflict(`family ${JSON.stringify(familyId)} belongs to model ${JSON.stringify(family.modelId)}, not ${JSON.stringify(artifact.model.id)}`);
        }
      }
      if (existing) {
        if (existing.status === "loading") this.log.info(`SAE ${sae.id}: discarding the partial rows of an interrupted ingest and loading again`);
        else this.log.info(`SAE ${sae.id}: replacing the existing SAE`);
        await this.repo.dropSae(sae.id);
      }
      started = true;
      createdModel = model ? null : artifact.model.id;
      createdFamily = familyId && !family ? familyId : null;
      await this.repo.createLoadingSae(
        createdModel ? { id: artifact.model.id, name: artifact.model.name ?? artifact.model.id, dModel } : null,
        createdFamily ? { id: createdFamily, name: artifact.family?.name ?? createdFamily, modelId: artifact.model.id } : null,
        {
          id: sae.id,
          name: sae.name ?? sae.id,
          modelId: artifact.model.id,
          familyId,
          hookName: sae.hookName ?? null,
          layer: sae.layer ?? null,
          architecture: sae.architecture,
          dIn: sae.dIn,
          dSae: sae.dSae,
          dtype: sae.dtype ?? null,
          k: sae.k ?? null,
          applyBDecToInput: sae.applyBDecToInput === undefined ? true : sae.applyBDecToInput,
          bDec: sae.bDec ? Array.from(sae.bDec) : [],
          neuronpediaId: sae.neuronpediaId ?? null,
          contentHash: artifact.contentHash,
          source: { ...artifact.source, ingestedAt: new Date().toISOString() },
          config: sae.config ?? {},
        },
      );
      const tLoad = performance.now();
      this.log.debug(`SAE ${sae.id}: loading (${sae.dSae} features, d_in ${sae.dIn}); checks took ${Math.round(tLoad - t0)} ms`);
      // The rows go into the SAE's detached tables, which have no foreign keys and only the
      // unique keys the load's upserts need while they fill.
      const detached = await bulk.detached(sae.id);
      let counts;
      try {
        counts = await this.runSession(detached.bulk, artifact.source, sae.id, sae.dIn, sae.dSae, produce, opts, {});
      } finally {
        await detached.end();
      }
      const tRows = performance.now();
      await this.repo.indexDetached(sae.id, this.db.backend === "postgres");
      const tIndex = performance.now();
      await this.steps?.record(bulk.executor, sae.id, "ready");
      await this.repo.attachAndMarkReady(sae.id, familyId);
      this.log.debug(
        `SAE ${sae.id}: rows ${Math.round(tRows - tLoad)} ms, indexes + ANALYZE ${Math.round(tIndex - tRows)} ms, attach + ready ${Math.round(performance.now() - tIndex)} ms`,
      );
      const result = summary(sae.id, outcome, counts, t0);
      await this.runSteps(sae.id, opts);
      return result;
    } catch (e) {
      await bulk.abortCopy();
      if (started) await this.cleanup(sae.id, createdModel, createdFamily);
      throw e;
    } finally {
      if (locked) {
        this.busy.delete(sae.id);
        await bulk.unlock(sae.id);
      }
      await bulk.release();
    }
  }

  /**
   * Adds rows to an existing ready SAE in one transaction: nothing is visible until
   * it commits, and a kill rolls it back. replace: drop the SAE's activation examples first.
   */
  async mergeIntoSae(
    saeId: string,
    input: { source: ArtifactSource; contentHash: string },
    produce: (sink: IngestSink) => Promise<void>,
    opts: IngestOptions = {},
  ): Promise<IngestSummary> {
    const t0 = performance.now();
    assertSlug("sae", saeId);
    const bulk = await BulkRepository.open(this.db);
    let locked = false;
    try {
      locked = await this.lock(bulk, saeId);
      const sae = await this.repo.findSae(saeId);
      if (!sae || sae.status === "deleting") throw notFound(`SAE ${JSON.stringify(saeId)} does not exist: ingest its weights or export first (monoscope ingest saelens|neuronpedia)`);
      if (sae.status !== "ready") throw conflict(`SAE ${JSON.stringify(saeId)} is still loading (an interrupted ingest): rerun that ingest first`);
      const imports = sae.imports;
      if (!opts.replace && imports.some((i) => i.contentHash === input.contentHash)) {
        this.log.info(`SAE ${saeId} already holds ${input.source.path}: nothing to load (--replace reloads it)`);
        await this.runSteps(saeId, opts);
        return summary(saeId, "skipped", { features: 0, activations: 0, explanations: 0 }, t0);
      }
      const counts = await bulk.withoutRedundantChecks(() => bulk.transaction(async (tx) => {
        if (opts.replace) {
          await tx.images.deleteLinks(saeId);
          await tx.activations.deleteAll(saeId);
        }
        const existing = await tx.features.existingIndices(saeId);
        const next = await tx.activations.nextOrdinals(saeId);
        const c = await this.runSession(tx, input.source, saeId, sae.dIn, sae.dSae, produce, opts, { existing, next });
        if (opts.replace) await tx.images.deleteOrphans();
        const record = { ...input.source, contentHash: input.contentHash, at: new Date().toISOString(), ...c };
        const kept = imports.filter((i) => i.contentHash !== input.contentHash);
        await tx.setSaeSource(saeId, { ...sae.source, imports: [...kept, record] });
        const event = c.decoders > 0 ? "updated" : c.activations > 0 || c.explanations > 0 ? "examples" : null;
        if (event) await this.steps?.record(tx.executor, saeId, event);
        return c;
      }));
      if (this.db.backend === "postgres") await this.repo.analyze(saeId, { features: false, activations: counts.activations > 0 });
      await this.runSteps(saeId, opts);
      return summary(saeId, "merged", counts, t0);
    } finally {
      if (locked) {
        this.busy.delete(saeId);
        await bulk.unlock(saeId);
      }
      await bulk.release();
    }
  }

  /**
   * Deletes an SAE (any status) with its features, activations, explanations, lineage and jobs:
   * from now on no request finds it, and its rows are dropped after the grace period (at once
   * with a grace of 0, or with now: when the caller knows no request can be reading it).
   * Returns the rows removed per table.
   */
  async removeSae(saeId: string, opts: { now?: boolean } = {}): Promise<DeletedCounts> {
    assertSlug("sae", saeId);
    const bulk = await BulkRepository.open(this.db);
    let counts: DeletedCounts | null;
    try {
      await this.lock(bulk, saeId);
      try {
        counts = await this.repo.markDeleting(saeId);
        if (!counts) throw notFound(`SAE ${JSON.stringify(saeId)} not found`);
        if (opts.now || this.deleteGraceMs === 0) await this.repo.dropSae(saeId, "deleting");
      } finally {
        this.busy.delete(saeId);
        await bulk.unlock(saeId);
      }
    } finally {
      await bulk.release();
    }
    // Drops what is due (another process's deletes too) and schedules this one.
    await this.dropDue().catch((e) => this.log.warn(`could not drop the rows of deleted SAEs (${(e as Error).message}); the next start or delete tries again`));
    return counts;
  }

  /**
   * Drops every deleting SAE whose grace has passed, then schedules the next drop in this
   * process (a timer that keeps no process alive; what it misses, the next start or delete drops).
   * A failing drop is logged and tried again later.
   */
  dropDue(): Promise<void> {
    const run = this.dropping.then(() => this.dropDueOnce());
    this.dropping = run.catch(() => {});
    return run;
  }

  private async dropDueOnce(): Promise<void> {
    if (this.closed) return;
    let next = Infinity;
    for (const d of await this.repo.deleting(this.deleteGraceMs)) {
      if (d.dueInMs > 0) next = Math.min(next, d.dueInMs);
      else if (!(await this.dropDeleting(d.id))) next = Math.min(next, DROP_RETRY_MS);
    }
    this.scheduleDrop(next);
  }

  private scheduleDrop(inMs: number): void {
    if (this.dropTimer) clearTimeout(this.dropTimer);
    this.dropTimer = null;
    if (!Number.isFinite(inMs) || this.closed) return;
    this.dropTimer = setTimeout(() => {
      this.dropTimer = null;
      this.dropDue().catch((e) => this.log.warn(`could not drop the rows of deleted SAEs (${(e as Error).message}); the next start or delete tries again`));
    }, Math.ceil(inMs) + 20);
    this.dropTimer.unref();
  }

  /** Drops one deleting SAE under its lock; false when someone else holds it (an ingest of the id, or another process's drop). */
  private async dropDeleting(saeId: string): Promise<boolean> {
    if (this.busy.has(saeId)) return false;
    const bulk = await BulkRepository.open(this.db);
    try {
      if (!(await bulk.tryLock(saeId))) return false;
      this.busy.add(saeId);
      try {
        await this.repo.dropSae(saeId, "deleting", { lockTimeoutMs: DROP_LOCK_MS });
        this.log.debug(`SAE ${saeId}: rows dropped after the delete's grace period`);
        return true;
      } catch (e) {
        // A lock not granted in time (readers on the tables) is routine: it goes again in DROP_RETRY_MS.
        const code = (e as { code?: unknown }).code;
        const level = code === "55P03" || code === "40P01" ? "debug" : "warn";
        this.log[level](`could not drop the rows of the deleted SAE ${saeId} (${(e as Error).message}); trying again later`);
        return false;
      } finally {
        this.busy.delete(saeId);
        await bulk.unlock(saeId);
      }
    } finally {
      await bulk.release();
    }
  }

  /** Waits for the rest of a deleting SAE's grace (a request may still read it), then drops it; the caller holds its lock. */
  private async dropAfterGrace(saeId: string): Promise<void> {
    const d = (await this.repo.deleting(this.deleteGraceMs)).find((x) => x.id === saeId);
    if (d && d.dueInMs > 0) {
      this.log.info(`SAE ${saeId} was deleted ${Math.round((this.deleteGraceMs - d.dueInMs) / 1000)} s ago: waiting ${Math.ceil(d.dueInMs / 1000)} s (MONOSCOPE_DELETE_GRACE_MS) for requests that may still read it, then loading it again`);
      await new Promise((r) => setTimeout(r, Math.ceil(d.dueInMs) + 20));
    }
    await this.repo.dropSae(saeId, "deleting");
  }

  /**
   * Waits until the SAE's rows are dropped (its grace passed), dropping them itself: for a
   * process that removes an SAE and exits (monoscope rm). No-op when it is not deleting.
   */
  async awaitDrop(saeId: string): Promise<void> {
    for (;;) {
      const d = (await this.repo.deleting(this.deleteGraceMs)).find((x) => x.id === saeId);
      if (!d) return;
      if (d.dueInMs > 0) await new Promise((r) => setTimeout(r, Math.ceil(d.dueInMs) + 20));
      else if (!(await this.dropDeleting(saeId))) await new Promise((r) => setTimeout(r, DROP_RETRY_MS));
    }
  }

  /** Stops the drop timer and waits for a drop in progress (what is left, the next start drops). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.dropTimer) clearTimeout(this.dropTimer);
    this.dropTimer = null;
    await this.dropping;
  }

  private async lock(bulk: BulkRepository, saeId: string): Promise<boolean> {
    // The advisory lock is per session, and the embedded database has one: busy covers this process.
    if (this.busy.has(saeId) || !(await bulk.tryLock(saeId))) throw conflict(`SAE ${JSON.stringify(saeId)} is being ingested or removed by another process; wait for it to finish`);
    this.busy.add(saeId);
    return true;
  }

  private async runSession(
    bulk: BulkRepository,
    source: ArtifactSource,
    saeId: string,
    dIn: number,
    dSae: number,
    produce: (sink: IngestSink) => Promise<void>,
    opts: IngestOptions,
    merge: { existing?: number[]; next?: [number, number][] },
  ) {
    const progress = opts.progress ?? silentProgress;
    const session = new IngestSession(bulk, {
      saeId,
      dIn,
      dSae,
      file: source.path,
      decoderField: opts.fields?.decoder,
      encoderField: opts.fields?.encoder,
      existing: merge.existing,
      nextOrdinals: merge.next,
      onProgress: (c) => progress.update(c),
    });
    progress.start(`ingest ${saeId}`, source.format === "native" ? null : dSae);
    try {
      await produce(session);
      await session.finish();
    } finally {
      progress.stop();
    }
    return { ...session.counts };
  }

  private async cleanup(saeId: string, modelId: string | null, familyId: string | null): Promise<void> {
    try {
      await this.repo.dropSae(saeId);
      await this.repo.deleteUnused(modelId, familyId);
    } catch (e) {
      this.log.warn(`could not remove the partial SAE ${saeId} (${(e as Error).message}); the next ingest of it discards it`);
    }
  }

  /** Runs the SAE's pending post-ingest steps (a failing one is logged by the step service and stays pending). */
  private async runSteps(saeId: string, opts: IngestOptions): Promise<void> {
    if (!this.steps) return;
    const progress = opts.progress ?? silentProgress;
    let current: string | null = null;
    try {
      await this.steps.runPending(saeId, (step, done, total) => {
        if (step !== current) {
          if (current) progress.stop();
          current = step;
          progress.start(`${step} ${saeId}`, total, "features");
        }
        progress.update({ features: done, activations: 0, explanations: 0 });
      });
    } catch (e) {
      // The SAE is committed; what did not run stays pending for the next run.
      this.log.warn(`SAE ${saeId} is ingested, but its post-ingest steps could not run: ${(e as Error).message}`);
    } finally {
      if (current) progress.stop();
    }
  }
}
