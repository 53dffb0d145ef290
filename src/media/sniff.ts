/**
 * What a file is, from its first bytes, without decoding it: the format from magic bytes, and for JPEG,
 * PNG and WebP the pixel size from the header. Pure; tolerant of truncated or hostile input (never throws,
 * never reads past the end).
 */
import type { ImageFormat } from "../providers/types.js";

export interface ImageHeader {
  format: ImageFormat;
  width: number;
  height: number;
}

export type SniffResult =
  | ({ ok: true } & ImageHeader)
  /** `kind` names what the bytes look like when it is not a usable JPEG/PNG/WebP (e.g. "GIF image"). */
  | { ok: false; reason: string; kind?: string };

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Format and dimensions of a JPEG, PNG or WebP image read from its header. */
export function sniffImage(bytes: Uint8Array): SniffResult {
  if (startsWith(bytes, PNG_SIGNATURE)) return readPng(bytes);
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return readJpeg(bytes);
  if (ascii(bytes, 0, 4) === "RIFF" && ascii(bytes, 8, 4) === "WEBP") return readWebp(bytes);
  const kind = otherKind(bytes);
  if (kind) return { ok: false, kind, reason: `it is a ${kind}, not a JPEG, PNG or WebP image` };
  if (bytes.length < 12) return { ok: false, reason: "it is too short to be an image" };
  return { ok: false, reason: "it is not a JPEG, PNG or WebP image (unrecognised file header)" };
}

export type MediaExtension = "png" | "jpg" | "webp" | "gif" | "mp4";

/** The media type of an output from its magic bytes, or undefined when not recognised. */
export function sniffMedia(
  bytes: Uint8Array,
): { extension: MediaExtension; contentType: string } | undefined {
  if (startsWith(bytes, PNG_SIGNATURE)) return { extension: "png", contentType: "image/png" };
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff)
    return { extension: "jpg", contentType: "image/jpeg" };
  if (ascii(bytes, 0, 4) === "RIFF" && ascii(bytes, 8, 4) === "WEBP")
    return { extension: "webp", contentType: "image/webp" };
  if (ascii(bytes, 0, 6) === "GIF87a" || ascii(bytes, 0, 6) === "GIF89a")
    return { extension: "gif", contentType: "image/gif" };
  if (ascii(bytes, 4, 4) === "ftyp" && !isStillImageBrand(ascii(bytes, 8, 4)))
    return { extension: "mp4", contentType: "video/mp4" };
  return undefined;
}

function readPng(bytes: Uint8Array): SniffResult {
  if (bytes.length < 24) return { ok: false, reason: "its PNG header is truncated" };
  if (ascii(bytes, 12, 4) !== "IHDR") return { ok: false, reason: "its PNG header has no IHDR chunk first" };
  const width = u32be(bytes, 16);
  const height = u32be(bytes, 20);
  if (width === 0 || height === 0)
    return { ok: false, reason: "its PNG header gives a zero width or height" };
  return { ok: true, format: "png", width, height };
}

/** SOF0–SOF15 except DHT (C4), JPG (C8) and DAC (CC), which share the range but are not frame headers. */
function isStartOfFrame(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

function readJpeg(bytes: Uint8Array): SniffResult {
  const truncated: SniffResult = { ok: false, reason: "its JPEG header is truncated (no frame size found)" };
  let pos = 2;
  while (pos < bytes.length) {
    if (bytes[pos] !== 0xff) return { ok: false, reason: "its JPEG header is corrupt (expected a marker)" };
    // Any number of 0xFF fill bytes may precede a marker.
    while (pos < bytes.length && bytes[pos] === 0xff) pos++;
    if (pos >= bytes.length) return truncated;
    const marker = bytes[pos] as number;
    pos++;
    // Markers without a length field.
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) continue;
    if (marker === 0xd9 || marker === 0xda) {
      return { ok: false, reason: "its JPEG data has no frame header before the image data" };
    }
    if (pos + 2 > bytes.length) return truncated;
    const length = u16be(bytes, pos);
    if (length < 2) return { ok: false, reason: "its JPEG header is corrupt (bad segment length)" };
    if (isStartOfFrame(marker)) {
      if (pos + 7 > bytes.length) return truncated;
      const height = u16be(bytes, pos + 3);
      const width = u16be(bytes, pos + 5);
      if (width === 0 || height === 0) {
        return { ok: false, reason: "its JPEG frame header gives a zero width or height" };
      }
      return { ok: true, format: "jpeg", width, height };
    }
    pos += length;
  }
  return truncated;
}

function readWebp(bytes: Uint8Array): SniffResult {
  const chunk = ascii(bytes, 12, 4);
  const truncated: SniffResult = { ok: false, reason: "its WebP header is truncated" };
  if (chunk === "VP8 ") {
    // Lossy: 3-byte frame tag, start code 9D 01 2A, then 14-bit width and height (2 scale bits each).
    if (bytes.length < 30) return truncated;
    if (bytes[23] !== 0x9d || bytes[24] !== 0x01 || bytes[25] !== 0x2a) {
      return { ok: false, reason: "its WebP (VP8) header is corrupt (missing start code)" };
    }
    return sized("webp", u16le(bytes, 26) & 0x3fff, u16le(bytes, 28) & 0x3fff, "WebP");
  }
  if (chunk === "VP8L") {
    // Lossless: signature 0x2F, then width-1 and height-1 as two 14-bit fields.
    if (bytes.length < 25) return truncated;
    if (bytes[20] !== 0x2f) return { ok: false, reason: "its WebP (VP8L) header is corrupt (bad signature)" };
    const b1 = bytes[21] as number;
    const b2 = bytes[22] as number;
    const b3 = bytes[23] as number;
    const b4 = bytes[24] as number;
    const width = 1 + (b1 | ((b2 & 0x3f) << 8));
    const height = 1 + ((b2 >> 6) | (b3 << 2) | ((b4 & 0x0f) << 10));
    return sized("webp", width, height, "WebP");
  }
  if (chunk === "VP8X") {
    // Extended: flags, 3 reserved bytes, then canvas width-1 and height-1 as 24-bit little-endian.
    if (bytes.length < 30) return truncated;
    return sized("webp", 1 + u24le(bytes, 24), 1 + u24le(bytes, 27), "WebP");
  }
  if (bytes.length < 16) return truncated;
  return { ok: false, reason: "its WebP header has an unknown first chunk" };
}

function sized(format: ImageFormat, width: number, height: number, label: string): SniffResult {
  if (width === 0 || height === 0) return { ok: false, reason: `its ${label} header gives a zero size` };
  return { ok: true, format, width, height };
}

function otherKind(bytes: Uint8Array): string | undefined {
  if (ascii(bytes, 0, 4) === "GIF8") return "GIF image";
  if (ascii(bytes, 0, 2) === "BM" && bytes.length >= 14) return "BMP image";
  if (ascii(bytes, 4, 4) === "ftyp") {
    const brand = ascii(bytes, 8, 4);
    if (brand.startsWith("avi")) return "AVIF image";
    if (isStillImageBrand(brand)) return "HEIC image";
    return "video";
  }
  if (ascii(bytes, 0, 4) === "%PDF") return "PDF document";
  if (/^\s*</.test(ascii(bytes, 0, 16))) return "text (HTML/XML) file";
  return undefined;
}

function isStillImageBrand(brand: string): boolean {
  return ["heic", "heix", "hevc", "heim", "heis", "mif1", "msf1", "avif", "avis"].includes(brand);
}

function startsWith(bytes: Uint8Array, prefix: readonly number[]): boolean {
  if (bytes.length < prefix.length) return false;
  return prefix.every((value, i) => bytes[i] === value);
}

function ascii(bytes: Uint8Array, offset: number, length: number): string {
  if (offset + length > bytes.length) return "";
  return String.fromCharCode(...bytes.subarray(offset, offset + length));
}

function u16be(bytes: Uint8Array, at: number): number {
  return ((bytes[at] as number) << 8) | (bytes[at + 1] as number);
}

function u16le(bytes: Uint8Array, at: number): number {
  return (bytes[at] as number) | ((bytes[at + 1] as number) << 8);
}

function u24le(bytes: Uint8Array, at: number): number {
  return (bytes[at] as number) | ((bytes[at + 1] as number) << 8) | ((bytes[at + 2] as number) << 16);
}

function u32be(bytes: Uint8Array, at: number): number {
  return (
    (bytes[at] as number) * 0x1000000 +
    (((bytes[at + 1] as number) << 16) | ((bytes[at + 2] as number) << 8) | (bytes[at + 3] as number))
  );
}
