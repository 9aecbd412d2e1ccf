// What an image file is, from its first bytes: the type from its magic number (never the file
// name) and the pixel size from its header, without decoding any pixels. PNG (IHDR), JPEG
// (the first start-of-frame marker) and WebP (VP8, VP8L or VP8X) are accepted.

export type ImageContentType = "image/png" | "image/jpeg" | "image/webp";

export interface SniffedImage {
  contentType: ImageContentType;
  width: number;
  height: number;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** The image's type and size, or a sentence saying why these bytes are not a PNG, JPEG or WebP image. */
export function sniffImage(b: Uint8Array): SniffedImage | string {
  if (PNG_SIGNATURE.every((v, i) => b[i] === v)) return png(b);
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return jpeg(b);
  if (ascii(b, 0, 4) === "RIFF" && ascii(b, 8, 12) === "WEBP") return webp(b);
  return "is not a PNG, JPEG or WebP image (unknown magic bytes)";
}

function ascii(b: Uint8Array, from: number, to: number): string {
  return b.length >= to ? String.fromCharCode(...b.subarray(from, to)) : "";
}

const u32be = (b: Uint8Array, i: number) => ((b[i]! << 24) >>> 0) + (b[i + 1]! << 16) + (b[i + 2]! << 8) + b[i + 3]!;
const u16be = (b: Uint8Array, i: number) => (b[i]! << 8) | b[i + 1]!;
const u16le = (b: Uint8Array, i: number) => b[i]! | (b[i + 1]! << 8);
const u24le = (b: Uint8Array, i: number) => b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16);

function sized(contentType: ImageContentType, width: number, height: number, what: string): SniffedImage | string {
  if (!(width > 0 && height > 0)) return `is a ${what} whose header gives no size (${width} x ${height})`;
  return { contentType, width, height };
}

function png(b: Uint8Array): SniffedImage | string {
  // The first chunk must be IHDR: length 13, then width and height as big-endian uint32.
  if (b.length < 24 || ascii(b, 12, 16) !== "IHDR") return "is a truncated PNG (no IHDR chunk)";
  return sized("image/png", u32be(b, 16), u32be(b, 20), "PNG");
}

function jpeg(b: Uint8Array): SniffedImage | string {
  let i = 2;
  while (i + 4 <= b.length) {
    if (b[i] !== 0xff) return "is a malformed JPEG (bad marker)";
    const m = b[i + 1]!;
    if (m === 0xff) {
      i++; // fill byte
      continue;
    }
    // Markers without a length: TEM, RSTn, SOI.
    if (m === 0x01 || (m >= 0xd0 && m <= 0xd8)) {
      i += 2;
      continue;
    }
    if (m === 0xd9 || m === 0xda) break; // end of image or start of scan before any frame
    const len = u16be(b, i + 2);
    if (len < 2) return "is a malformed JPEG (bad segment length)";
    // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC): precision, height, width.
    if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) {
      if (i + 9 > b.length) break;
      return sized("image/jpeg", u16be(b, i + 7), u16be(b, i + 5), "JPEG");
    }
    i += 2 + len;
  }
  return "is a JPEG without a frame header (truncated?)";
}

function webp(b: Uint8Array): SniffedImage | string {
  const chunk = ascii(b, 12, 16);
  if (chunk === "VP8 " && b.length >= 30) {
    // Key frame start code 9d 01 2a, then 14-bit width and height (2 bits of scale above).
    if (b[23] !== 0x9d || b[24] !== 0x01 || b[25] !== 0x2a) return "is a malformed WebP (VP8 start code missing)";
    return sized("image/webp", u16le(b, 26) & 0x3fff, u16le(b, 28) & 0x3fff, "WebP");
  }
  if (chunk === "VP8L" && b.length >= 25) {
    if (b[20] !== 0x2f) return "is a malformed WebP (VP8L signature missing)";
    const bits = (b[21]! | (b[22]! << 8) | (b[23]! << 16) | (b[24]! << 24)) >>> 0;
    return sized("image/webp", (bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1, "WebP");
  }
  if (chunk === "VP8X" && b.length >= 30) return sized("image/webp", u24le(b, 24) + 1, u24le(b, 27) + 1, "WebP");
  return "is a truncated or unknown WebP (no VP8, VP8L or VP8X chunk)";
}
