// Images of image activation examples: reading and checking an image file for ingest
// (magic bytes, size limit, SHA-256 content address) and serving stored ones by hash.
import { createHash } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { badInput } from "../../errors.ts";
import type { ImageRepository, StoredImageBytes } from "./image.repository.ts";
import { type ImageContentType, sniffImage } from "./image-sniff.ts";

export { DEFAULT_IMAGE_MAX_BYTES, MAX_IMAGE_PATCHES, MAX_IMAGE_URL_LENGTH } from "./image.constants.ts";
export { type ImageContentType, type SniffedImage, sniffImage } from "./image-sniff.ts";

/** An image file's bytes as they are stored (example_image). */
export interface StoredImage {
  sha256: string;
  contentType: ImageContentType;
  width: number;
  height: number;
  bytes: Buffer;
}

export const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Where the API serves a stored image. */
export function imageUrl(sha256: string): string {
  return `/images/${sha256}`;
}

/**
 * Reads one image file for ingest. Returns the stored form, or a sentence saying what is
 * wrong (the caller names the file, line and field).
 */
export async function readImageFile(path: string, maxBytes: number): Promise<StoredImage | string> {
  let size: number;
  try {
    const s = await stat(path);
    if (!s.isFile()) return `${path} is not a file`;
    size = s.size;
  } catch (e) {
    return `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
  }
  if (size > maxBytes) return `${path} is ${size} bytes, over the ${maxBytes}-byte image limit (MONOSCOPE_IMAGE_MAX_BYTES)`;
  if (size === 0) return `${path} is empty`;
  const bytes = await readFile(path);
  const sniffed = sniffImage(bytes);
  if (typeof sniffed === "string") return `${path} ${sniffed}`;
  return { sha256: createHash("sha256").update(bytes).digest("hex"), ...sniffed, bytes };
}

export class ImageService {
  constructor(private readonly repo: ImageRepository) {}

  /** A stored image by its SHA-256 (lower-case hex); null when none is stored. */
  async get(sha256: string): Promise<StoredImageBytes | null> {
    if (!SHA256_HEX.test(sha256)) throw badInput("an image hash is 64 lower-case hex digits (its SHA-256)", { arg: "sha256" });
    return this.repo.get(sha256);
  }
}
