// The `image` field of a native activation record, and turning it into what is stored:
//   "image": {"file": "img/0001.png", "patchGrid": [14, 14]}           a file beside the JSONL
//   "image": {"url": "https://…", "width": 224, "height": 224, "patchGrid": [14, 14]}
// A file is read (magic bytes, size limit, SHA-256) and stored in the database; a url is kept
// as a reference the browser loads and is never fetched, so its size must be given.
import { dirname, isAbsolute, resolve } from "node:path";
import { fileError } from "../../errors.ts";
import { MAX_IMAGE_PATCHES, MAX_IMAGE_URL_LENGTH, readImageFile } from "../../modules/image/image.service.ts";
import type { ActivationImage, ImageBytes } from "../ingest.types.ts";

export interface ImageRef {
  /** As written in the record (relative to the JSONL file). */
  file: string | null;
  url: string | null;
  patchRows: number;
  patchCols: number;
  width: number | null;
  height: number | null;
}

const KEYS = new Set(["file", "url", "patchGrid", "width", "height"]);

export function parseImageRef(v: unknown, where: string): ImageRef {
  if (!v || typeof v !== "object" || Array.isArray(v)) throw fileError(where, "image", "is not an object such as {\"file\": \"img/0001.png\", \"patchGrid\": [14, 14]}");
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!KEYS.has(k)) throw fileError(where, `image.${k}`, "is not a field of an image (file, url, patchGrid, width, height)");
  const grid = o.patchGrid;
  const dim = (x: unknown) => typeof x === "number" && Number.isInteger(x) && x > 0;
  if (!Array.isArray(grid) || grid.length !== 2 || !dim(grid[0]) || !dim(grid[1])) {
    throw fileError(where, "image.patchGrid", `${JSON.stringify(grid) ?? "undefined"} is not [rows, cols] (two positive integers)`);
  }
  const [patchRows, patchCols] = grid as [number, number];
  if (patchRows * patchCols > MAX_IMAGE_PATCHES) throw fileError(where, "image.patchGrid", `has ${patchRows * patchCols} patches; at most ${MAX_IMAGE_PATCHES}`);
  const size = (k: "width" | "height"): number | null => {
    const x = o[k];
    if (x === undefined || x === null) return null;
    if (!dim(x)) throw fileError(where, `image.${k}`, `${JSON.stringify(x)} is not a positive integer (pixels)`);
    return x as number;
  };
  const width = size("width");
  const height = size("height");
  const file = o.file ?? null;
  const url = o.url ?? null;
  if ((file === null) === (url === null)) throw fileError(where, "image", "needs exactly one of file (a path relative to the JSONL file) or url");
  if (file !== null) {
    if (typeof file !== "string" || file.trim() === "") throw fileError(where, "image.file", "is not a non-empty path");
    if (isAbsolute(file) || file.includes("\u0000")) throw fileError(where, "image.file", `${JSON.stringify(file)} is not a path relative to the JSONL file`);
    return { file, url: null, patchRows, patchCols, width, height };
  }
  if (typeof url !== "string" || url.length > MAX_IMAGE_URL_LENGTH) throw fileError(where, "image.url", `is not a URL of at most ${MAX_IMAGE_URL_LENGTH} characters`);
  let parsed: URL | null = null;
  try {
    parsed = new URL(url);
  } catch {
    /* reported below */
  }
  if (!parsed || (parsed.protocol !== "http:" && parsed.protocol !== "https:")) throw fileError(where, "image.url", `${JSON.stringify(url)} is not an http(s) URL`);
  if (width === null || height === null) throw fileError(where, width === null ? "image.width" : "image.height", "is required with a url (the server never fetches the image)");
  return { file: null, url, patchRows, patchCols, width, height };
}

/** Reads the images of one import, each file once. */
export class ImageResolver {
  private readonly seen = new Map<string, Omit<ImageBytes, "bytes">>();

  constructor(
    private readonly jsonlFile: string,
    private readonly maxBytes: number,
  ) {}

  /** The stored form of ref, and the bytes when this file was not read before in this import. */
  async resolve(ref: ImageRef, where: string): Promise<{ image: ActivationImage; bytes: ImageBytes | null }> {
    const grid = { patchRows: ref.patchRows, patchCols: ref.patchCols };
    if (ref.url !== null) return { image: { sha256: null, url: ref.url, width: ref.width!, height: ref.height!, ...grid }, bytes: null };
    const path = resolve(dirname(this.jsonlFile), ref.file!);
    let meta = this.seen.get(path);
    let bytes: ImageBytes | null = null;
    if (!meta) {
      const r = await readImageFile(path, this.maxBytes);
      if (typeof r === "string") throw fileError(where, "image.file", r);
      bytes = r;
      meta = { sha256: r.sha256, contentType: r.contentType, width: r.width, height: r.height };
      this.seen.set(path, meta);
    }
    for (const k of ["width", "height"] as const) {
      if (ref[k] !== null && ref[k] !== meta[k]) throw fileError(where, `image.${k}`, `is ${ref[k]}, but ${ref.file} is ${meta.width} x ${meta.height} pixels`);
    }
    return { image: { sha256: meta.sha256, url: null, width: meta.width, height: meta.height, ...grid }, bytes };
  }
}
