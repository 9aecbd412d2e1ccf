// `monoscope export activations --sae <id> --out <file.jsonl[.gz]>`: an SAE's activation
// examples and feature stats in Monoscope's native JSONL (what `ingest activations` reads).
// Stored images are written once each beside the output, under <name>.images/<sha256>.<ext>,
// and referenced by a path relative to the JSONL; external images stay url records.
import { once } from "node:events";
import { createWriteStream, mkdirSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { createGzip } from "node:zlib";
import type { Writable } from "node:stream";
import { notFound } from "../../errors.ts";
import type { ExportRepository, NativeActivationRow } from "./export.repository.ts";

export interface NativeExportSummary {
  saeId: string;
  out: string;
  features: number;
  activations: number;
  images: number;
  seconds: number;
}

const PAGE = 1000;
const EXT: Record<string, string> = { "image/png": "png", "image/jpeg": "jpg", "image/webp": "webp" };

class JsonlWriter {
  private readonly head: Writable;
  private readonly done: Promise<unknown>;
  constructor(path: string) {
    const file = createWriteStream(path);
    this.done = once(file, "finish");
    if (path.endsWith(".gz")) {
      const gz = createGzip({ level: 6 });
      gz.pipe(file);
      this.head = gz;
    } else this.head = file;
  }
  async write(o: unknown): Promise<void> {
    if (!this.head.write(JSON.stringify(o) + "\n")) await once(this.head, "drain");
  }
  async close(): Promise<void> {
    this.head.end();
    await this.done;
  }
}

/** The folder images go in, beside out: file.jsonl.gz -> file.images/. */
export function imageFolderName(out: string): string {
  return basename(out).replace(/\.gz$/, "").replace(/\.jsonl$/, "") + ".images";
}

export async function exportNativeActivations(repo: ExportRepository, saeId: string, out: string): Promise<NativeExportSummary> {
  const t0 = performance.now();
  const sae = await repo.sae(saeId);
  if (!sae || sae.status !== "ready") throw notFound(`SAE ${JSON.stringify(saeId)} not found`);
  mkdirSync(dirname(out), { recursive: true });
  const folder = imageFolderName(out);
  const written = new Map<string, string>();
  const w = new JsonlWriter(out);
  let features = 0;
  let activations = 0;
  try {
    for (let after = -1; ; ) {
      const page = await repo.featureStats(saeId, after, PAGE);
      for (const f of page) {
        await w.write({ type: "feature", index: f.idx, ...(f.density !== null ? { density: f.density } : {}), ...(f.max_activation !== null ? { maxActivation: f.max_activation } : {}) });
      }
      features += page.length;
      if (page.length < PAGE) break;
      after = page[page.length - 1]!.idx;
    }
    const imageFile = async (sha: string): Promise<string> => {
      let rel = written.get(sha);
      if (rel) return rel;
      const img = await repo.imageBytes(sha);
      if (!img) throw new Error(`invariant failed: image ${sha} of SAE ${saeId} is not stored`);
      rel = `${folder}/${sha}.${EXT[img.contentType] ?? "bin"}`;
      if (written.size === 0) mkdirSync(join(dirname(out), folder), { recursive: true });
      writeFileSync(join(dirname(out), rel), img.bytes);
      written.set(sha, rel);
      return rel;
    };
    for (let after: [number, number] = [-1, -1]; ; ) {
      const page = await repo.nativeActivations(saeId, after, PAGE);
      for (const a of page) await w.write(await record(a, imageFile));
      activations += page.length;
      if (page.length < PAGE) break;
      const last = page[page.length - 1]!;
      after = [last.feature_idx, last.ordinal];
    }
  } finally {
    await w.close();
  }
  return { saeId, out, features, activations, images: written.size, seconds: (performance.now() - t0) / 1000 };
}

async function record(a: NativeActivationRow, imageFile: (sha: string) => Promise<string>): Promise<Record<string, unknown>> {
  const r: Record<string, unknown> = { type: "activation", index: a.feature_idx };
  if (a.patch_rows !== null && a.patch_cols !== null) {
    const patchGrid = [a.patch_rows, a.patch_cols];
    r.image = a.image_sha256 ? { file: await imageFile(a.image_sha256), patchGrid } : { url: a.image_url, width: a.image_width, height: a.image_height, patchGrid };
    r.tokens = [];
  } else r.tokens = a.tokens ?? [];
  r.values = a.values;
  r.kind = a.kind;
  if (a.bin_min !== null) r.binMin = a.bin_min;
  if (a.bin_max !== null) r.binMax = a.bin_max;
  if (a.source !== null) r.source = a.source;
  return r;
}
