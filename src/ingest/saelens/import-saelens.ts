// `monoscope ingest saelens <dir>`: a SAELens checkpoint directory (cfg.json,
// sae_weights.safetensors, optional sparsity.safetensors) -> IngestService.
// Tensors are read a block of features at a time, so memory stays flat for multi-GB files.
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { badInput, fileError } from "../../errors.ts";
import { fingerprintFiles } from "../fingerprint.ts";
import type { IngestOptions, IngestService } from "../ingest.service.ts";
import type { FeatureRow, IngestSummary, SaeArtifact } from "../ingest.types.ts";
import { parseSaelensCfg } from "./cfg.ts";
import { EncodePool } from "../bulk/encode-pool.ts";
import { SafetensorsFile } from "./safetensors.ts";

/** Elements (d_sae x d_in) from which worker threads pay for their start-up. */
const WORKER_THRESHOLD = 4 << 20;

export interface SaelensImport extends Pick<IngestOptions, "replace" | "progress"> {
  dir: string;
  saeId: string;
  modelId?: string;
  familyId?: string;
  layer?: number;
  modelDim?: number;
  /** Features per block read from disk (default: about 8 MB of decoder rows). */
  batchSize?: number;
  /** Encoder worker threads: "auto" (default) for large checkpoints, true always, false never. */
  workers?: boolean | "auto";
}

export async function importSaelens(ingest: IngestService, opts: SaelensImport): Promise<IngestSummary> {
  const dir = opts.dir;
  const st = await stat(dir).catch(() => null);
  if (!st?.isDirectory()) throw badInput(`${dir}: directory: not found (expected a SAELens checkpoint directory with cfg.json and sae_weights.safetensors)`);
  const cfgPath = join(dir, "cfg.json");
  const cfgText = await readFile(cfgPath, "utf8").catch((e: NodeJS.ErrnoException) => {
    throw fileError(cfgPath, "file", e.code === "ENOENT" ? "not found" : `cannot be read (${e.code})`);
  });
  const cfg = parseSaelensCfg(cfgText, cfgPath);
  if (typeof cfg.raw.d_out === "number" && cfg.raw.d_out !== cfg.dIn) {
    throw fileError(cfgPath, "d_out", `${cfg.raw.d_out} differs from d_in ${cfg.dIn}: transcoders with a different output space are not supported`);
  }
  const weightsPath = join(dir, "sae_weights.safetensors");
  if (!(await stat(weightsPath).catch(() => null))) throw fileError(weightsPath, "file", "not found");
  const sparsityPath = join(dir, "sparsity.safetensors");
  const hasSparsity = !!(await stat(sparsityPath).catch(() => null));

  const modelId = opts.modelId ?? cfg.modelName;
  if (!modelId) throw badInput(`--model: required (${cfgPath} has no model_name)`);

  const w = await SafetensorsFile.open(weightsPath);
  let sp: SafetensorsFile | null = null;
  try {
    sp = hasSparsity ? await SafetensorsFile.open(sparsityPath) : null;
  } catch (e) {
    // A sparsity file that fails to open must not leave the weights file open.
    await w.close();
    throw e;
  }
  try {
    const wDecInfo = w.get("W_dec");
    if (!wDecInfo) throw fileError(weightsPath, "W_dec", `tensor is missing (found: ${[...w.tensors.keys()].join(", ") || "none"})`);
    if (wDecInfo.shape.length !== 2) throw fileError(weightsPath, "W_dec", `shape [${wDecInfo.shape.join(", ")}] is not 2-D [d_sae, d_in]`);
    const dSae = cfg.dSae ?? wDecInfo.shape[0]!;
    const dIn = cfg.dIn ?? wDecInfo.shape[1]!;
    const against = `cfg.json (d_sae ${dSae}, d_in ${dIn})`;
    const wDec = w.require("W_dec", [dSae, dIn], against);
    const wEnc = w.require("W_enc", [dIn, dSae], against);
    const isGated = cfg.architecture === "gated";
    const bEnc = isGated && !w.get("b_enc") ? w.require("b_gate", [dSae], against) : w.require("b_enc", [dSae], against);
    const bDecInfo = w.require("b_dec", [dIn], against);
    const threshold = cfg.architecture === "jumprelu" ? w.require("threshold", [dSae], against) : null;
    const sparsity = sp ? sp.require("sparsity", [dSae], against) : null;
    const bDec = await w.readRows(bDecInfo, 0, dIn);
    for (let i = 0; i < dIn; i++) if (!Number.isFinite(bDec[i])) throw fileError(weightsPath, "b_dec", `value ${i} is ${bDec[i]}`);

    const contentHash = await fingerprintFiles([cfgPath, weightsPath, ...(hasSparsity ? [sparsityPath] : [])]);
    const artifact: SaeArtifact = {
      model: { id: modelId, ...(opts.modelDim !== undefined ? { dModel: opts.modelDim } : {}) },
      family: opts.familyId ? { id: opts.familyId } : null,
      sae: {
        id: opts.saeId,
        hookName: cfg.hookName,
        layer: opts.layer ?? cfg.layer,
        architecture: cfg.architecture,
        dIn,
        dSae,
        dtype: cfg.dtype ?? wDec.dtype,
        k: cfg.k,
        applyBDecToInput: cfg.applyBDecToInput,
        bDec,
        neuronpediaId: cfg.neuronpediaId,
        config: cfg.raw,
      },
      source: {
        format: "saelens",
        path: dir,
        files: ["cfg.json", "sae_weights.safetensors", ...(hasSparsity ? ["sparsity.safetensors"] : [])],
        weightsDtype: wDec.dtype,
        ...(cfg.datasetPath ? { datasetPath: cfg.datasetPath } : {}),
        ...(cfg.contextSize ? { contextSize: cfg.contextSize } : {}),
        ...(cfg.hookHeadIndex !== null ? { hookHeadIndex: cfg.hookHeadIndex } : {}),
      },
      contentHash,
    };
    const batch = opts.batchSize ?? Math.max(64, Math.floor((8 << 20) / (dIn * 4)));
    const fields = { decoder: "W_dec", encoder: "W_enc" };
    // Large checkpoints are encoded in worker threads, beside reading and the database's work.
    const useWorkers = opts.workers === true || ((opts.workers ?? "auto") === "auto" && dSae * dIn >= WORKER_THRESHOLD);
    // Embedded PGlite parses COPY on the main thread: one worker leaves it a core.
    const pool = useWorkers ? await EncodePool.start(ingest.backend === "pglite" ? 1 : undefined) : null;
    const readBlock = (start: number, transposed: boolean) => {
      const n = Math.min(batch, dSae - start);
      return Promise.all([
        w.readRows(wDec, start, n),
        transposed ? w.readColumns(wEnc, start, n) : w.readColumnBlock(wEnc, start, n),
        w.readRows(bEnc, start, n),
        threshold ? w.readRows(threshold, start, n) : null,
        sparsity && sp ? sp.readRows(sparsity, start, n) : null,
      ] as const);
    };
    try {
      return await ingest.ingestSae(
        artifact,
        async (sink) => {
          if (pool) {
            // Blocks are read here, encoded by the workers and written to COPY in order, one at a
            // time, keeping every worker busy with one block and one queued.
            const queue: { start: number; n: number; result: Promise<{ tuples: Buffer; decoders: number }> }[] = [];
            const writeOldest = async () => {
              const q = queue.shift()!;
              const r = await q.result;
              await sink.featureTuples!(r.tuples, q.start, q.n, r.decoders);
            };
            for (let start = 0; start < dSae; start += batch) {
              const n = Math.min(batch, dSae - start);
              const [dec, enc, be, th, sparse] = await readBlock(start, false);
              const density = sparse ? Float64Array.from(sparse, (x, i) => densityFromLog10(x, sparsityPath, start + i)) : null;
              const ctx = { saeId: opts.saeId, dIn, decoderField: fields.decoder, encoderField: fields.encoder };
              const result = pool.encode({ ctx, file: weightsPath, start, n, dec, enc, bEnc: be, threshold: th, density });
              result.catch(() => {}); // surfaced by writeOldest; later ones die with the pool
              queue.push({ start, n, result });
              if (queue.length >= 2 * pool.size) await writeOldest();
            }
            while (queue.length) await writeOldest();
            return;
          }
          let next = readBlock(0, true);
          for (let start = 0; start < dSae; start += batch) {
            const n = Math.min(batch, dSae - start);
            const [dec, enc, be, th, sparse] = await next;
            // Read the next block while this one is encoded and sent.
            if (start + batch < dSae) {
              next = readBlock(start + batch, true);
              next.catch(() => {}); // surfaced when awaited
            }
            const rows: FeatureRow[] = new Array(n);
            for (let i = 0; i < n; i++) {
              rows[i] = {
                index: start + i,
                decoder: dec.subarray(i * dIn, (i + 1) * dIn),
                encoder: enc.subarray(i * dIn, (i + 1) * dIn),
                bEnc: be[i]!,
                threshold: th ? th[i]! : null,
                density: sparse ? densityFromLog10(sparse[i]!, sparsityPath, start + i) : null,
                file: weightsPath,
              };
            }
            await sink.features(rows);
          }
        },
        { replace: opts.replace, progress: opts.progress, fields },
      );
    } finally {
      await pool?.close();
    }
  } finally {
    await w.close();
    await sp?.close();
  }
}

/** sparsity.safetensors holds log10(feature density); a dead feature is -inf. */
function densityFromLog10(x: number, file: string, index: number): number {
  if (Number.isNaN(x) || x === Number.POSITIVE_INFINITY) throw fileError(file, `sparsity[${index}]`, `${x} is not a log10 density`);
  return x === Number.NEGATIVE_INFINITY ? 0 : 10 ** x;
}

