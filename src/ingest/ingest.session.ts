// One ingest run's buffers and rules: validates rows, normalises decoders, assigns
// activation ordinals, keeps foreign keys satisfied (features before their
// activations, bare feature rows for features an artifact only mentions), and sends
// everything through the bulk repository in large binary COPY chunks.
import { fileError } from "../errors.ts";
import type { ImportedExplanation } from "../modules/explanation/explanation.repository.ts";
import type { DashboardJson } from "../modules/feature/feature-bulk.repository.ts";
import type { ActivationImageRow, ImageBytesRow } from "../modules/image/image-bulk.repository.ts";
import type { BulkRepository } from "./bulk/bulk.repository.ts";
import { checkFeatureIndex, encodeActivationTuple, ordinalOffset } from "./bulk/activation-tuple.ts";
import { CopyBuffer } from "./bulk/copy-binary.ts";
import { encodeFeatureTuple, type TupleContext } from "./bulk/feature-tuple.ts";
import type { ActivationImage, ActivationRow, ExplanationRow, FeatureDashboard, FeatureRow, ImageBytes, IngestSink, TupleImage } from "./ingest.types.ts";

/** Bytes of encoded tuples per COPY chunk. */
const CHUNK_BYTES = 4 << 20;
const SMALL_BATCH = 1000;
/** Bytes of image files held before they are written. */
const IMAGE_BYTES = 16 << 20;

export interface SessionOptions {
  saeId: string;
  dIn: number;
  dSae: number;
  /** For error messages when a row carries no file of its own. */
  file: string;
  /** Names of the decoder/encoder in that file, e.g. W_dec / W_enc. */
  decoderField?: string;
  encoderField?: string;
  /** Feature rows that already exist (merge into an existing SAE). */
  existing?: Iterable<number>;
  /** Next activation ordinal per feature (merge). */
  nextOrdinals?: Iterable<[number, number]>;
  onProgress?: (counts: SessionCounts) => void;
}

export interface SessionCounts {
  features: number;
  activations: number;
  explanations: number;
  decoders: number;
}

export class IngestSession implements IngestSink {
  readonly saeId: string;
  readonly dIn: number;
  readonly dSae: number;
  readonly counts: SessionCounts = { features: 0, activations: 0, explanations: 0, decoders: 0 };

  /** 1 = a row for this feature exists or is queued for the direct COPY. */
  private readonly present: Uint8Array;
  /** 1 = the artifact described this feature already (duplicates are errors). */
  private readonly seen: Uint8Array;
  private readonly ordinals: Int32Array;
  private readonly direct = new CopyBuffer();
  private readonly staged = new CopyBuffer(1 << 16);
  private stagedPending = false;
  private bare: number[] = [];
  private dashboards: [number, FeatureDashboard][] = [];
  private readonly acts = new CopyBuffer();
  /** Pre-encoded activation tuples (activationTuples) not sent yet. */
  private tupleBlocks: Buffer[] = [];
  private tupleBytes = 0;
  private readonly ordinalOffset: number;
  private explanationRows = new Map<string, ImportedExplanation>();
  private readonly tuple: TupleContext;
  /** Image bytes not written yet, and every sha256 given this run (each is written once). */
  private imageRows: ImageBytesRow[] = [];
  private imageBytes = 0;
  private readonly imagesGiven = new Set<string>();
  /** Image examples' images, written after their activation rows (FK). */
  private imageLinks: ActivationImageRow[] = [];

  constructor(
    private readonly bulk: BulkRepository,
    private readonly opts: SessionOptions,
  ) {
    this.saeId = opts.saeId;
    this.dIn = opts.dIn;
    this.dSae = opts.dSae;
    this.present = new Uint8Array(opts.dSae);
    this.seen = new Uint8Array(opts.dSae);
    this.ordinals = new Int32Array(opts.dSae);
    this.tuple = { saeId: opts.saeId, dIn: opts.dIn, decoderField: opts.decoderField ?? "decoder", encoderField: opts.encoderField ?? "encoder" };
    this.ordinalOffset = ordinalOffset(opts.saeId);
    for (const i of opts.existing ?? []) if (i < opts.dSae) this.present[i] = 1;
    for (const [i, n] of opts.nextOrdinals ?? []) if (i < opts.dSae) this.ordinals[i] = n;
  }

  private checkIndex(index: number, file: string | undefined, what: string): void {
    checkFeatureIndex(index, this.dSae, file ?? this.opts.file, what);
  }

  async features(rows: readonly FeatureRow[]): Promise<void> {
    for (const row of rows) {
      const file = row.file ?? this.opts.file;
      this.checkIndex(row.index, file, "feature");
      if (this.seen[row.index]) throw fileError(file, `feature ${row.index}`, "appears more than once");
      this.seen[row.index] = 1;
      const toStage = this.present[row.index] === 1;
      this.counts.decoders += encodeFeatureTuple(toStage ? this.staged : this.direct, this.tuple, row, file);
      if (toStage) this.stagedPending = true;
      this.present[row.index] = 1;
      if (row.dashboard) this.dashboards.push([row.index, row.dashboard]);
      this.counts.features++;
      if (this.direct.pos >= CHUNK_BYTES) await this.sendDirect();
      if (this.staged.pos >= CHUNK_BYTES) await this.flushFeatures();
      if (this.dashboards.length >= SMALL_BATCH) await this.flushDashboards();
    }
    this.opts.onProgress?.(this.counts);
  }

  /**
   * Feature rows [first, first + count) already encoded as COPY tuples (by encodeFeatureTuple in
   * a worker thread): only for features this run has not written yet.
   */
  async featureTuples(tuples: Buffer, first: number, count: number, decoders: number): Promise<void> {
    for (let i = first; i < first + count; i++) {
      this.checkIndex(i, undefined, "feature");
      if (this.seen[i] || this.present[i]) throw new Error(`invariant failed: pre-encoded feature ${i} is already present`);
      this.seen[i] = 1;
      this.present[i] = 1;
    }
    this.counts.features += count;
    this.counts.decoders += decoders;
    await this.sendDirect();
    await this.bulk.features.copy(tuples);
    this.opts.onProgress?.(this.counts);
  }

  async activations(rows: readonly ActivationRow[]): Promise<void> {
    for (const row of rows) {
      const file = row.file ?? this.opts.file;
      // A row that names its own record (file:line) needs no feature prefix on field names.
      const where = row.file && row.file !== this.opts.file ? "" : `activation[feature ${row.index}].`;
      const b = this.acts;
      const ordinal = this.ordinals[row.index]!;
      encodeActivationTuple(b, this.saeId, this.dSae, row, file, where, ordinal);
      if (row.image) this.linkImage(row.index, ordinal, row.image);
      this.ordinals[row.index]++;
      if (!this.present[row.index]) {
        this.present[row.index] = 1;
        this.bare.push(row.index);
      }
      this.counts.activations++;
      if (b.pos >= CHUNK_BYTES) await this.flushActivations();
    }
    this.opts.onProgress?.(this.counts);
  }

  /**
   * Activation rows already checked and encoded by encodeActivationTuple (in a worker thread)
   * with a placeholder ordinal: tuple k starts at byte starts[k] and is for feature indices[k].
   * Ordinals are assigned here, in call order, so they match activations() row for row.
   */
  async activationTuples(tuples: Buffer, indices: Int32Array, starts: Int32Array, images: readonly TupleImage[] = []): Promise<void> {
    const dv = new DataView(tuples.buffer, tuples.byteOffset, tuples.byteLength);
    const off = this.ordinalOffset;
    let next = 0;
    for (let k = 0; k < indices.length; k++) {
      const i = indices[k]!;
      if (!(i >= 0 && i < this.dSae)) throw new Error(`invariant failed: pre-encoded activation for feature ${i}`);
      if (next < images.length && images[next]!.k === k) this.linkImage(i, this.ordinals[i]!, images[next++]!.image);
      dv.setInt32(starts[k]! + off, this.ordinals[i]++);
      if (!this.present[i]) {
        this.present[i] = 1;
        this.bare.push(i);
      }
    }
    this.counts.activations += indices.length;
    if (indices.length) {
      this.tupleBlocks.push(tuples);
      this.tupleBytes += tuples.length;
      // The server streams COPY data as it comes; PGlite pays per statement, so it gets larger ones.
      if (this.bulk.backend === "postgres" || this.tupleBytes >= CHUNK_BYTES) await this.flushActivations();
    }
    this.opts.onProgress?.(this.counts);
  }

  async images(rows: readonly ImageBytes[]): Promise<void> {
    for (const r of rows) {
      if (this.imagesGiven.has(r.sha256)) continue;
      this.imagesGiven.add(r.sha256);
      this.imageRows.push(r);
      this.imageBytes += r.bytes.length;
    }
    if (this.imageBytes >= IMAGE_BYTES) await this.flushImages();
  }

  private linkImage(index: number, ordinal: number, image: ActivationImage): void {
    if (image.sha256 !== null && !this.imagesGiven.has(image.sha256)) throw new Error(`invariant failed: image ${image.sha256} was not given before its example`);
    this.imageLinks.push({ index, ordinal, ...image });
  }

  private async flushImages(): Promise<void> {
    if (!this.imageRows.length) return;
    const rows = this.imageRows;
    this.imageRows = [];
    this.imageBytes = 0;
    await this.bulk.images.insertImages(rows);
  }

  async explanations(rows: readonly ExplanationRow[]): Promise<void> {
    for (const row of rows) {
      const file = row.file ?? this.opts.file;
      this.checkIndex(row.index, file, "explanation");
      if (typeof row.text !== "string" || row.text.trim() === "") throw fileError(file, `explanation[feature ${row.index}].text`, "is empty");
      if (!this.present[row.index]) {
        this.present[row.index] = 1;
        this.bare.push(row.index);
      }
      const r: ImportedExplanation = {
        index: row.index,
        text: row.text,
        method: row.method ?? "imported",
        promptVersion: row.promptVersion ?? "",
        explainerModel: row.explainerModel ?? "",
      };
      // The last explanation for a key wins (one statement cannot update a row twice).
      this.explanationRows.set(JSON.stringify([r.index, r.method, r.promptVersion, r.explainerModel]), r);
      this.counts.explanations++;
      if (this.explanationRows.size >= SMALL_BATCH) await this.flushExplanations();
    }
    this.opts.onProgress?.(this.counts);
  }

  private async sendDirect(): Promise<void> {
    if (this.direct.pos === 0) return;
    await this.bulk.features.copy(this.direct.detach());
  }

  /** Makes every feature row seen so far visible to later statements (FKs). */
  private async flushFeatures(): Promise<void> {
    await this.sendDirect();
    if (this.stagedPending) {
      await this.bulk.features.merge(this.staged.detach());
      this.stagedPending = false;
    }
    if (this.bare.length) {
      const idx = this.bare;
      this.bare = [];
      await this.bulk.features.insertBare(this.saeId, idx);
    }
    // No endCopy here: switching the COPY target or running a statement ends a COPY, and an
    // activation COPY must stay open across chunks to keep the pipeline full.
  }

  private async flushDashboards(): Promise<void> {
    if (!this.dashboards.length) return;
    await this.flushFeatures();
    const rows = this.dashboards;
    this.dashboards = [];
    const j = (v: unknown) => (v === null || v === undefined ? null : JSON.stringify(v));
    await this.bulk.features.upsertDashboards(
      this.saeId,
      rows.map(([index, d]): DashboardJson => ({
        index,
        posLogits: j(d.posLogits),
        negLogits: j(d.negLogits),
        freqHistogram: j(d.freqHistogram),
        logitsHistogram: j(d.logitsHistogram),
        correlatedNeurons: j(d.correlatedNeurons),
        correlatedFeatures: j(d.correlatedFeatures),
        neuronAlignment: j(d.neuronAlignment),
        extra: j(d.extra && Object.keys(d.extra).length ? d.extra : null),
      })),
    );
  }

  private async flushActivations(): Promise<void> {
    if (this.acts.pos === 0 && this.tupleBlocks.length === 0) return;
    await this.flushFeatures();
    if (this.acts.pos > 0) await this.bulk.activations.copy(this.acts.detach());
    if (this.tupleBlocks.length) {
      const blocks = this.tupleBlocks;
      this.tupleBlocks = [];
      this.tupleBytes = 0;
      if (this.bulk.backend === "postgres") for (const t of blocks) await this.bulk.activations.copy(t);
      else await this.bulk.activations.copy(blocks.length === 1 ? blocks[0]! : Buffer.concat(blocks));
    }
  }

  private async flushExplanations(): Promise<void> {
    if (!this.explanationRows.size) return;
    await this.flushFeatures();
    const rows = [...this.explanationRows.values()];
    this.explanationRows.clear();
    await this.bulk.explanations.upsert(this.saeId, rows);
  }

  /** Sends everything still buffered; after this every row is in the database. */
  async finish(): Promise<void> {
    await this.flushFeatures();
    await this.flushDashboards();
    await this.flushActivations();
    await this.flushExplanations();
    await this.flushImages();
    if (this.imageLinks.length) await this.bulk.images.insertLinks(this.saeId, this.imageLinks);
    this.imageLinks = [];
    await this.bulk.endCopy();
    await this.bulk.features.finish();
    this.opts.onProgress?.(this.counts);
  }
}
