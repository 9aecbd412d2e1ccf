// Values the CLI shows in its help and the config defaults to (imports nothing).

/** Largest image file an ingest accepts by default (MONOSCOPE_IMAGE_MAX_BYTES). */
export const DEFAULT_IMAGE_MAX_BYTES = 8 << 20;
/** Most patches an image example's grid may have (values has one per patch). */
export const MAX_IMAGE_PATCHES = 65_536;
/** Longest external image URL kept. */
export const MAX_IMAGE_URL_LENGTH = 2048;
