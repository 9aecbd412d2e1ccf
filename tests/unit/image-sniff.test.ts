// Image type and size come from the bytes' magic number and header alone.
import { describe, expect, it } from "vitest";
import { sniffImage } from "../../src/modules/image/image.service.ts";
import { jpeg, png, webp } from "../helpers/images.ts";

describe("sniffImage", () => {
  it("reads PNG, JPEG and WebP sizes from their headers", () => {
    expect(sniffImage(png(7, 5))).toEqual({ contentType: "image/png", width: 7, height: 5 });
    expect(sniffImage(jpeg(640, 480))).toEqual({ contentType: "image/jpeg", width: 640, height: 480 });
    expect(sniffImage(webp(300, 2))).toEqual({ contentType: "image/webp", width: 300, height: 2 });
  });

  it("reads a lossy (VP8) and an extended (VP8X) WebP", () => {
    const lossy = Buffer.alloc(30);
    lossy.write("RIFF", 0);
    lossy.write("WEBPVP8 ", 8);
    lossy.set([0x9d, 0x01, 0x2a], 23);
    lossy.writeUInt16LE(123 | (1 << 14), 26); // scale bits above the 14-bit size are ignored
    lossy.writeUInt16LE(45, 28);
    expect(sniffImage(lossy)).toEqual({ contentType: "image/webp", width: 123, height: 45 });
    const ext = Buffer.alloc(30);
    ext.write("RIFF", 0);
    ext.write("WEBPVP8X", 8);
    ext.writeUIntLE(1919, 24, 3);
    ext.writeUIntLE(1079, 27, 3);
    expect(sniffImage(ext)).toEqual({ contentType: "image/webp", width: 1920, height: 1080 });
  });

  it("skips JPEG segments before the frame header", () => {
    const exif = Buffer.concat([Buffer.from([0xff, 0xe1, 0x00, 0x06]), Buffer.from("Exif")]);
    const j = jpeg(33, 44);
    expect(sniffImage(Buffer.concat([j.subarray(0, 2), exif, j.subarray(2)]))).toMatchObject({ width: 33, height: 44 });
  });

  it("says why other bytes are not an image", () => {
    expect(sniffImage(Buffer.from("GIF89a......"))).toMatch(/not a PNG, JPEG or WebP/);
    expect(sniffImage(png(4, 4).subarray(0, 20))).toMatch(/truncated PNG/);
    expect(sniffImage(Buffer.from([0xff, 0xd8, 0xff, 0xd9]))).toMatch(/JPEG without a frame header/);
    expect(sniffImage(png(0, 3))).toMatch(/no size/);
    expect(sniffImage(Buffer.alloc(0))).toMatch(/unknown magic bytes/);
  });
});
